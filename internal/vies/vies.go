// Package vies asks the European Commission's VIES whether an intra-EU VAT number is
// registered, over its REST API (POST <base>/check-vat-number). A member state's
// service is often down for a while: such answers are ErrUnavailable, for the caller
// to charge VAT and say why, never to drop it.
package vies

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultURL is the base of the VIES REST API.
const DefaultURL = "https://ec.europa.eu/taxation_customs/vies/rest-api"

// ErrUnavailable means VIES (or the member state behind it) could not answer: the
// number is neither confirmed nor refused.
var ErrUnavailable = errors.New("vies: unavailable")

// Result is what VIES says about a number.
type Result struct {
	Valid bool
	// Name and Address of the registered trader, when the member state gives them.
	Name, Address string
	// RequestDate is VIES's date of the check; RequestID its consultation number,
	// when one was asked for.
	RequestDate string
	RequestID   string
}

// Client calls VIES.
type Client struct {
	URL  string // base URL; DefaultURL when empty
	HTTP *http.Client
}

type request struct {
	CountryCode string `json:"countryCode"`
	VATNumber   string `json:"vatNumber"`
}

type response struct {
	CountryCode       string `json:"countryCode"`
	VATNumber         string `json:"vatNumber"`
	RequestDate       string `json:"requestDate"`
	Valid             *bool  `json:"valid"`
	RequestIdentifier string `json:"requestIdentifier"`
	Name              string `json:"name"`
	Address           string `json:"address"`
	UserError         string `json:"userError"`
	ActionSucceed     *bool  `json:"actionSucceed"`
	ErrorWrappers     []struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	} `json:"errorWrappers"`
}

// Check asks VIES about number (without its prefix) of the member state prefix (VIES
// prefixes: "EL" for Greece). A refusal to answer, a network failure, or an answer
// that is not one is ErrUnavailable.
func (c *Client) Check(ctx context.Context, prefix, number string) (Result, error) {
	base := strings.TrimRight(c.URL, "/")
	if base == "" {
		base = DefaultURL
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	body, err := json.Marshal(request{CountryCode: prefix, VATNumber: number})
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/check-vat-number", bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return Result{}, fmt.Errorf("%w: HTTP %d, not JSON", ErrUnavailable, resp.StatusCode)
	}
	if len(r.ErrorWrappers) > 0 {
		return Result{}, fmt.Errorf("%w: %s %s", ErrUnavailable, r.ErrorWrappers[0].Error, r.ErrorWrappers[0].Message)
	}
	if resp.StatusCode != http.StatusOK || r.Valid == nil {
		return Result{}, fmt.Errorf("%w: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	// userError tells why a member state could not say (MS_UNAVAILABLE, TIMEOUT…);
	// "VALID" and "INVALID" are answers.
	if u := r.UserError; u != "" && u != "VALID" && u != "INVALID" {
		return Result{}, fmt.Errorf("%w: %s", ErrUnavailable, u)
	}
	return Result{Valid: *r.Valid, Name: strings.TrimSpace(r.Name), Address: strings.TrimSpace(r.Address),
		RequestDate: r.RequestDate, RequestID: r.RequestIdentifier}, nil
}
