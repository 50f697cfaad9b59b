// Package viestest is a local VIES: it speaks the REST API's check-vat-number
// protocol for tests and the local cloud, with a register of valid numbers and member
// states that can be made unavailable.
package viestest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a running fake VIES.
type Server struct {
	URL string

	mu       sync.Mutex
	valid    map[string]string // prefix+number → trader name
	down     map[string]bool   // member states not answering
	requests int
	srv      *httptest.Server
}

// Demo lists numbers the fake registers by default: valid in shape and check digits.
var Demo = map[string]string{
	"DE123456788":    "Beispiel GmbH",
	"BE0123456749":   "Acme BV",
	"IT12345678903":  "Esempio SRL",
	"NL123456782B01": "Voorbeeld BV",
	"FR40303265045":  "Exemple SA",
}

// Start runs a fake VIES registering numbers (prefix + number → trader name); nil
// registers Demo.
func Start(numbers map[string]string) *Server {
	if numbers == nil {
		numbers = Demo
	}
	s := &Server{valid: map[string]string{}, down: map[string]bool{}}
	for k, v := range numbers {
		s.valid[k] = v
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetDown makes a member state's service unavailable (or available again).
func (s *Server) SetDown(prefix string, down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[prefix] = down
}

// Requests counts the checks asked.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/check-vat-number") {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]any{"actionSucceed": false,
			"errorWrappers": []map[string]string{{"error": "NOT_FOUND", "message": "no such resource"}}})
		return
	}
	var in struct {
		CountryCode string `json:"countryCode"`
		VATNumber   string `json:"vatNumber"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.CountryCode == "" || in.VATNumber == "" {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"actionSucceed": false,
			"errorWrappers": []map[string]string{{"error": "INVALID_INPUT", "message": "countryCode and vatNumber are required"}}})
		return
	}
	s.mu.Lock()
	s.requests++
	down := s.down[in.CountryCode]
	name, ok := s.valid[in.CountryCode+in.VATNumber]
	s.mu.Unlock()
	out := map[string]any{"countryCode": in.CountryCode, "vatNumber": in.VATNumber,
		"requestDate": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "requestIdentifier": "", "valid": ok}
	switch {
	case down:
		out["valid"], out["userError"] = false, "MS_UNAVAILABLE"
	case ok:
		out["userError"], out["name"], out["address"] = "VALID", name, "---"
	default:
		out["userError"], out["name"], out["address"] = "INVALID", "---", "---"
	}
	_ = json.NewEncoder(w).Encode(out)
}
