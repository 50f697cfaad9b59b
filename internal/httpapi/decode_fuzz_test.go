package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/trace"
)

// kindOf returns the kind of a decoder's error, failing the test when the error is not
// the checkout's own: a decoder that leaks a foreign error would be answered 500.
func kindOf(t *testing.T, err error) checkout.Kind {
	t.Helper()
	var e *checkout.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not a *checkout.Error, so it would be answered 500", err, err)
	}
	return e.Kind
}

// decodeTarget is shaped like the bodies the routes read: nested objects, slices, maps,
// numbers and strings, so the fuzzer meets every JSON type the decoder must refuse or take.
type decodeTarget struct {
	Lines    []checkout.Line                `json:"lines"`
	Customer *checkout.Customer             `json:"customer"`
	Required map[string][]map[string]string `json:"requirements"`
	Quantity int                            `json:"quantity"`
	Accept   bool                           `json:"acceptTerms"`
	Paymode  string                         `json:"paymode"`
}

// FuzzDecode feeds arbitrary bodies, content types and encodings to Decode: it must never
// panic, must refuse with a client error (400 or 413, never 500), must refuse bodies over
// MaxBody, and must accept only one well-formed JSON value whose fields it knows — proved
// by decoding the re-encoded value to the same thing.
func FuzzDecode(f *testing.F) {
	f.Add(`{"quantity":1}`, "application/json", false)
	f.Add(`{"acceptTerms":true,"paymode":"test"}`, "application/json; charset=utf-8", false)
	f.Add(`{"quantity":1,"unitPrice":1}`, "application/json", false)
	f.Add(`{"quantity":1}{"quantity":2}`, "", false)
	f.Add(`eyJxdWFudGl0eSI6M30=`, "application/json", true)
	f.Add(`{"quantity":"1"}`, "text/plain", false)
	f.Fuzz(func(t *testing.T, body, contentType string, b64 bool) {
		r := &httpapi.Request{Body: body, IsBase64Encoded: b64, Headers: map[string]string{}}
		if contentType != "" {
			r.Headers["Content-Type"] = contentType
		}
		var v decodeTarget
		err := httpapi.Decode(r, &v)
		raw := []byte(body)
		if b64 {
			d, derr := base64.StdEncoding.DecodeString(body)
			if derr != nil {
				if err == nil {
					t.Fatalf("accepted a body flagged base64 that is not: %q", body)
				}
				if k := kindOf(t, err); k != checkout.EINVALID {
					t.Fatalf("bad base64 refused as %s, want %s", k, checkout.EINVALID)
				}
				return
			}
			raw = d
		}
		if err != nil {
			k := kindOf(t, err)
			if k != checkout.EINVALID && k != checkout.ETOOLARGE {
				t.Fatalf("refused as %s (%v), want invalid or too_large", k, err)
			}
			if (k == checkout.ETOOLARGE) != (len(raw) > httpapi.MaxBody) {
				t.Fatalf("too_large = %v for a %d-byte body (limit %d)", k == checkout.ETOOLARGE, len(raw), httpapi.MaxBody)
			}
			return
		}
		if len(raw) > httpapi.MaxBody {
			t.Fatalf("accepted a %d-byte body over the %d-byte limit", len(raw), httpapi.MaxBody)
		}
		if contentType != "" && !strings.HasPrefix(contentType, "application/json") {
			t.Fatalf("accepted content type %q", contentType)
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted a value that does not re-encode: %v", err)
		}
		if len(again) > httpapi.MaxBody {
			return // the canonical form spells out every field: it may outgrow the limit
		}
		var w decodeTarget
		if err := httpapi.Decode(&httpapi.Request{Body: string(again)}, &w); err != nil {
			t.Fatalf("re-encoded value %s refused: %v", again, err)
		}
		if !reflect.DeepEqual(normalised(v), normalised(w)) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", v, w)
		}
	})
}

// normalised maps empty maps and slices to nil: JSON keeps the difference between
// [] and null, and which one a body sent is not what FuzzDecode checks.
func normalised(v decodeTarget) decodeTarget {
	if len(v.Lines) == 0 {
		v.Lines = nil
	}
	if len(v.Required) == 0 {
		v.Required = nil
	}
	return v
}

// FuzzBody checks the body reader alone: what it returns is the raw body, or its base64
// decoding, never more than MaxBody bytes, and its only refusals are 400 and 413.
func FuzzBody(f *testing.F) {
	f.Add("", false)
	f.Add("aGVsbG8=", true)
	f.Add("aGVsbG8", true)
	f.Add("not base64!", true)
	f.Add(strings.Repeat("A", 100), false)
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		got, err := httpapi.Body(&httpapi.Request{Body: body, IsBase64Encoded: b64})
		want := []byte(body)
		if b64 {
			d, derr := base64.StdEncoding.DecodeString(body)
			if derr != nil {
				if err == nil || kindOf(t, err) != checkout.EINVALID {
					t.Fatalf("bad base64 %q: err = %v, want invalid", body, err)
				}
				return
			}
			want = d
		}
		if len(want) > httpapi.MaxBody {
			if err == nil || kindOf(t, err) != checkout.ETOOLARGE {
				t.Fatalf("%d-byte body: err = %v, want too_large", len(want), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%d-byte body refused: %v", len(want), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Body = %q, want %q", got, want)
		}
	})
}

// FuzzBearer checks the token reader: it accepts only "Bearer <token>" (scheme in any
// case), returns the token trimmed, and otherwise answers 401.
func FuzzBearer(f *testing.F) {
	f.Add("Bearer abc")
	f.Add("bearer  abc ")
	f.Add("BEARER")
	f.Add("Bearer ")
	f.Add("Basic dXNlcjpwdw==")
	f.Add("Bearerabc")
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := httpapi.Bearer(&httpapi.Request{Headers: map[string]string{"authorization": h}})
		scheme := len(h) > len("bearer ") && strings.EqualFold(h[:len("bearer ")], "bearer ")
		if err != nil {
			if k := kindOf(t, err); k != checkout.EUNAUTHORIZED {
				t.Fatalf("refused as %s, want %s", k, checkout.EUNAUTHORIZED)
			}
			if scheme {
				t.Fatalf("refused a Bearer header %q: %v", h, err)
			}
			return
		}
		if !scheme {
			t.Fatalf("accepted %q, which is not a Bearer header", h)
		}
		if tok != strings.TrimSpace(tok) {
			t.Fatalf("token %q is not trimmed", tok)
		}
		if !strings.Contains(h, tok) {
			t.Fatalf("token %q is not taken from the header %q", tok, h)
		}
	})
}

// FuzzTraceLine checks what the functions write into the merchant trace from user text:
// whatever the text, trace.Sanitize leaves no control character or line separator, so
// a formatted line is one line, begins with its own stamp and transaction ID, and cannot
// carry a second, forged line.
func FuzzTraceLine(f *testing.F) {
	f.Add("paying")
	f.Add("x\r\n-- 2016-7-27 11:32:13 753 -- [AAAAAAAAAAAAAAAA] Test Processing : paid")
	f.Add("a\u2028b\u2029c\u0085d\x1b[31m")
	f.Add(strings.Repeat("é", 600))
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		clean := trace.Sanitize(s)
		for i, r := range clean {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
				t.Fatalf("Sanitize(%q) kept %U at byte %d", s, r, i)
			}
		}
		if clean != strings.TrimSpace(clean) {
			t.Fatalf("Sanitize(%q) = %q is not trimmed", s, clean)
		}
		if !utf8.ValidString(clean) {
			t.Fatalf("Sanitize(%q) = %q is not valid UTF-8", s, clean)
		}
		if max := 1000 + len("…"); len(clean) > max {
			t.Fatalf("Sanitize kept %d bytes, over the %d-byte cap", len(clean), max)
		}
		const txid = "TU80WKRYTI9QUMJ4"
		at := time.Date(2016, 7, 27, 11, 32, 13, 753e6, time.UTC)
		line := trace.Line{At: at, TxID: txid, Source: trace.Sanitize(s), Message: clean}.Format(nil)
		if strings.ContainsAny(line, "\r\n\u2028\u2029\u0085") {
			t.Fatalf("formatted line spans lines: %q", line)
		}
		if want := "-- 2016-7-27 11:32:13 753 -- [" + txid + "] "; !strings.HasPrefix(line, want) {
			t.Fatalf("line %q does not start with %q", line, want)
		}
	})
}
