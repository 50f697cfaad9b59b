package providertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SystempayIPN returns the form body the Systempay gateway posts to
// vads_url_check: fields plus the "signature" computed with key as the
// gateway does (Base64 HMAC-SHA-256 of the vads_* values sorted by name,
// joined and terminated by "+", followed by the key).
func SystempayIPN(key string, fields url.Values) []byte {
	out := url.Values{}
	var names []string
	for k, v := range fields {
		out[k] = append([]string(nil), v...)
		if strings.HasPrefix(k, "vads_") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var msg []string
	for _, k := range names {
		msg = append(msg, fields.Get(k))
	}
	msg = append(msg, key)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(strings.Join(msg, "+")))
	out.Set("signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return []byte(out.Encode())
}

// SystempayPayment returns the vads_* fields of a typical IPN for a payment
// of amount minor units in the ISO 4217 numeric currency.
func SystempayPayment(siteID, txID, uuid, status string, amount int64, currency string) url.Values {
	return url.Values{
		"vads_site_id":          {siteID},
		"vads_ctx_mode":         {"TEST"},
		"vads_order_id":         {txID},
		"vads_trans_id":         {"123456"},
		"vads_trans_uuid":       {uuid},
		"vads_trans_status":     {status},
		"vads_trans_date":       {"20240102030405"},
		"vads_amount":           {strconv.FormatInt(amount, 10)},
		"vads_currency":         {currency},
		"vads_effective_amount": {strconv.FormatInt(amount, 10)},
		"vads_operation_type":   {"DEBIT"},
		"vads_url_check_src":    {"PAY"},
		"vads_result":           {"00"},
		"vads_card_brand":       {"CB"},
		"vads_payment_config":   {"SINGLE"},
		"vads_version":          {"V2"},
		"vads_hash":             {"3c2d2e0f9ab1"},
	}
}
