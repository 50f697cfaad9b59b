// Package faultproxy is an HTTP reverse proxy that sits between the functions and a local
// stand-in of an AWS service (DynamoDB Local, the Step Functions engine, the SES
// emulator). It counts the traffic per operation — and, for DynamoDB, the capacity each
// call consumed — and injects, in configurable proportions, the failures the real
// services return: throttling, 5xx, added latency and connections reset before or after
// the service did the work.
//
// With zero faults it is a counting proxy: the benchmark uses it so, to measure round
// trips and capacity per step without changing the functions.
package faultproxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Faults are the proportions (0 to 1) of requests given each failure. Throttle,
// ServerError, ResetBefore and ResetAfter exclude one another, so their sum is at most 1;
// latency is added independently of them.
type Faults struct {
	// Throttle answers without forwarding, as an over-used service does: DynamoDB's
	// 400 ProvisionedThroughputExceededException, the other JSON APIs' 400
	// ThrottlingException, REST APIs' 429 TooManyRequestsException.
	Throttle float64
	// ServerError answers 500 InternalServerError without forwarding.
	ServerError float64
	// ResetBefore resets the connection before forwarding: the service never sees it.
	ResetBefore float64
	// ResetAfter forwards the request, then resets the connection instead of answering:
	// the service did the work and the caller cannot know. Retries then repeat a write
	// that happened — what conditional writes and idempotency records are for.
	ResetAfter float64
	// Latency is added to a LatencyShare of the requests before they are forwarded.
	Latency      time.Duration
	LatencyShare float64
	// Operations limits the faults to these operations (e.g. "UpdateItem",
	// "StartExecution"); empty means every operation. Latency applies to the same set.
	Operations []string
	// Max, when positive, stops the exclusive faults once that many requests have been
	// given one since SetFaults: {ResetAfter: 1, Max: 1} loses exactly the first answer,
	// and the SDK's retry of it goes through, whatever the timing of the two.
	Max int
}

// Validate reports proportions outside [0, 1], exclusive faults adding up to more than
// one, and negative latency.
func (f Faults) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"Throttle", f.Throttle}, {"ServerError", f.ServerError}, {"ResetBefore", f.ResetBefore},
		{"ResetAfter", f.ResetAfter}, {"LatencyShare", f.LatencyShare}} {
		if !(p.v >= 0 && p.v <= 1) { // also refuses NaN
			return fmt.Errorf("faultproxy: %s = %v is not a proportion between 0 and 1", p.name, p.v)
		}
	}
	if sum := f.Throttle + f.ServerError + f.ResetBefore + f.ResetAfter; sum > 1+1e-9 {
		return fmt.Errorf("faultproxy: Throttle+ServerError+ResetBefore+ResetAfter = %v, over 1", sum)
	}
	if f.Latency < 0 {
		return fmt.Errorf("faultproxy: negative latency %v", f.Latency)
	}
	if f.Max < 0 {
		return fmt.Errorf("faultproxy: negative Max %d", f.Max)
	}
	return nil
}

func (f Faults) applies(op string) bool {
	if len(f.Operations) == 0 {
		return true
	}
	for _, o := range f.Operations {
		if o == op {
			return true
		}
	}
	return false
}

// Fault names what happened to one request.
type Fault string

// The outcomes a request can be given.
const (
	None        Fault = ""
	Throttled   Fault = "throttled"
	ServerError Fault = "server_error"
	ResetBefore Fault = "reset_before"
	ResetAfter  Fault = "reset_after"
)

// OpStats are the counts of one operation.
type OpStats struct {
	Requests int `json:"requests"`
	// Forwarded reached the service (ResetAfter included).
	Forwarded int           `json:"forwarded"`
	Faults    map[Fault]int `json:"faults,omitempty"`
	Delayed   int           `json:"delayed,omitempty"`
	// ReadUnits and WriteUnits add up the ConsumedCapacity the service reported.
	ReadUnits  float64 `json:"readUnits,omitempty"`
	WriteUnits float64 `json:"writeUnits,omitempty"`
	// WithCapacity counts the answers that reported any capacity.
	WithCapacity int `json:"withCapacity,omitempty"`
}

// Stats are a snapshot of the proxy's counts, by operation.
type Stats map[string]OpStats

// Sub returns s − before: the traffic between two snapshots.
func (s Stats) Sub(before Stats) Stats {
	out := Stats{}
	for op, a := range s {
		b := before[op]
		d := OpStats{Requests: a.Requests - b.Requests, Forwarded: a.Forwarded - b.Forwarded, Delayed: a.Delayed - b.Delayed,
			ReadUnits: a.ReadUnits - b.ReadUnits, WriteUnits: a.WriteUnits - b.WriteUnits, WithCapacity: a.WithCapacity - b.WithCapacity}
		for f, n := range a.Faults {
			if n-b.Faults[f] != 0 {
				if d.Faults == nil {
					d.Faults = map[Fault]int{}
				}
				d.Faults[f] = n - b.Faults[f]
			}
		}
		if d.Requests != 0 || d.Forwarded != 0 {
			out[op] = d
		}
	}
	return out
}

// Total adds up every operation.
func (s Stats) Total() OpStats {
	var t OpStats
	for _, o := range s {
		t.Requests += o.Requests
		t.Forwarded += o.Forwarded
		t.Delayed += o.Delayed
		t.ReadUnits += o.ReadUnits
		t.WriteUnits += o.WriteUnits
		t.WithCapacity += o.WithCapacity
		for f, n := range o.Faults {
			if t.Faults == nil {
				t.Faults = map[Fault]int{}
			}
			t.Faults[f] += n
		}
	}
	return t
}

// Ops lists the operations in s, sorted.
func (s Stats) Ops() []string {
	out := slices.Sorted(maps.Keys(s))
	return out
}

// Options configure New.
type Options struct {
	// Name labels the proxy in errors ("dynamodb").
	Name string
	// AskCapacity adds "ReturnConsumedCapacity":"TOTAL" to DynamoDB data-plane requests
	// that do not ask for it, so the answers report the capacity the functions consume
	// without the functions asking. DynamoDB Local does not check signatures, which is
	// what makes rewriting a signed body possible; never point this at AWS.
	AskCapacity bool
	// Seed makes the draws repeatable: the same requests arriving in the same order get
	// the same faults.
	Seed uint64
	// Observe, if set, is called after each request with what happened to it, so a
	// caller can attribute calls to the operations that made them (by time).
	Observe func(Record)
	// KeepBodies puts each forwarded data-plane request and its answer (decompressed) in
	// the Record given to Observe: what a caller needs to model capacity from item sizes
	// (internal/bench).
	KeepBodies bool
}

// Record describes one request the proxy handled.
type Record struct {
	Proxy      string
	Op         string
	Fault      Fault
	Start, End time.Time
	ReadUnits  float64
	WriteUnits float64
	// Request and Response are the bodies of a forwarded data-plane call, with
	// Options.KeepBodies only.
	Request, Response []byte
	// ModelWriteUnits is for the observer: the write units it computes itself from the
	// bodies (internal/bench's item-size model), beside DynamoDB's WriteUnits.
	ModelWriteUnits float64
	// ModelWriteParts breaks ModelWriteUnits down by operation and item kind (a label
	// such as "UpdateItem TX ORDER" → its units), for the observer's breakdown.
	ModelWriteParts map[string]float64
	// ModelWriteSizes is, for the same labels, the largest item written in bytes.
	ModelWriteSizes map[string]int
}

// ErrNotLoopback is returned for upstreams off the loopback interface.
var ErrNotLoopback = errors.New("faultproxy: upstream is not on the loopback interface")

// Proxy forwards to one upstream. Start it with Listen; Close stops it.
type Proxy struct {
	upstream *url.URL
	opts     Options
	client   *http.Client

	mu     sync.Mutex
	faults Faults
	given  int // requests given an exclusive fault since SetFaults, for Faults.Max
	rng    *rand.Rand
	stats  map[string]*OpStats

	srv *http.Server
	ln  net.Listener
}

// New returns a proxy to upstream ("http://127.0.0.1:8000"). Only loopback upstreams
// are accepted: the proxy exists for the local cloud.
func New(upstream string, opts Options) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q is not an http:// URL", upstream)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); !(host == "localhost" || (ip != nil && ip.IsLoopback())) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, upstream)
	}
	return &Proxy{
		upstream: u,
		opts:     opts,
		// The SDK checks DynamoDB's CRC32 of the bytes it receives: compression must
		// pass through untouched, so the transport must not negotiate it itself.
		client: &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}},
		rng:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		stats:  map[string]*OpStats{},
	}, nil
}

// Listen serves the proxy on a free port of 127.0.0.1 and returns its URL.
func (p *Proxy) Listen() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("faultproxy %s: listen: %w", p.opts.Name, err)
	}
	p.ln = ln
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p.URL(), nil
}

// URL is where the proxy listens, once Listen returned.
func (p *Proxy) URL() string {
	if p.ln == nil {
		return ""
	}
	return "http://" + p.ln.Addr().String()
}

// Close stops the proxy.
func (p *Proxy) Close() error {
	if p.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	p.client.CloseIdleConnections()
	return err
}

// SetFaults changes the faults for the requests that arrive from now on.
func (p *Proxy) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.Operations = append([]string(nil), f.Operations...)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	p.given = 0
	return nil
}

// Stats returns a snapshot of the counts.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := Stats{}
	for op, s := range p.stats {
		c := *s
		if s.Faults != nil {
			c.Faults = make(map[Fault]int, len(s.Faults))
			for f, n := range s.Faults {
				c.Faults[f] = n
			}
		}
		out[op] = c
	}
	return out
}

// decide draws one request's fate under the current faults.
func (p *Proxy) decide(op string) (Fault, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults
	if !f.applies(op) {
		return None, 0
	}
	var delay time.Duration
	if f.Latency > 0 && p.rng.Float64() < f.LatencyShare {
		delay = f.Latency
	}
	if f.Max > 0 && p.given >= f.Max {
		return None, delay
	}
	x := p.rng.Float64()
	for _, c := range []struct {
		share float64
		fault Fault
	}{{f.Throttle, Throttled}, {f.ServerError, ServerError}, {f.ResetBefore, ResetBefore}, {f.ResetAfter, ResetAfter}} {
		if x < c.share {
			p.given++
			return c.fault, delay
		}
		x -= c.share
	}
	return None, delay
}

func (p *Proxy) record(op string, fn func(*OpStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats[op]
	if s == nil {
		s = &OpStats{}
		p.stats[op] = s
	}
	fn(s)
}

// Operation names a request: the X-Amz-Target action of the JSON protocols
// ("DynamoDB_20120810.GetItem" → "GetItem"), else method and path for REST APIs.
func Operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	return r.Method + " " + r.URL.Path
}

// ServeHTTP forwards one request, or fails it as drawn.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := Operation(r)
	fault, delay := p.decide(op)
	rec := Record{Proxy: p.opts.Name, Op: op, Fault: fault, Start: time.Now()}
	if p.opts.Observe != nil {
		defer func() {
			rec.End = time.Now()
			p.opts.Observe(rec)
		}()
	}
	p.record(op, func(s *OpStats) {
		s.Requests++
		if fault != None {
			if s.Faults == nil {
				s.Faults = map[Fault]int{}
			}
			s.Faults[fault]++
		}
		if delay > 0 {
			s.Delayed++
		}
	})
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch fault {
	case Throttled:
		writeThrottle(w, r)
		return
	case ServerError:
		writeAWSError(w, r, http.StatusInternalServerError, "InternalServerError", "injected by faultproxy")
		return
	case ResetBefore:
		reset(w)
		return
	}
	if p.opts.AskCapacity {
		body = askCapacity(op, body)
	}
	resp, respBody, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	read, write, reported := consumed(op, resp.Header.Get("Content-Encoding"), respBody)
	rec.ReadUnits, rec.WriteUnits = read, write
	if p.opts.KeepBodies && dataPlane[op] {
		rec.Request, rec.Response = body, decoded(resp.Header.Get("Content-Encoding"), respBody)
	}
	p.record(op, func(s *OpStats) {
		s.Forwarded++
		s.ReadUnits += read
		s.WriteUnits += write
		if reported {
			s.WithCapacity++
		}
	})
	if fault == ResetAfter {
		reset(w)
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// hopByHop are the headers that concern one connection, not the request.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	target := *p.upstream
	target.Path = r.URL.Path
	target.RawPath = r.URL.RawPath
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("build request: %w", err)
	}
	out.Header = r.Header.Clone()
	for _, h := range hopByHop {
		out.Header.Del(h)
	}
	out.Host = r.Host // the signature covers the Host header
	out.ContentLength = int64(len(body))
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, fmt.Errorf("%s upstream: %w", p.opts.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s upstream: read answer: %w", p.opts.Name, err)
	}
	for _, h := range hopByHop {
		resp.Header.Del(h)
	}
	resp.Header.Del("Content-Length")
	return resp, raw, nil
}

// reset closes the client's connection with an RST (linger 0), as a dropped connection
// looks to the SDK: "connection reset by peer", which it retries.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http closes the connection without an answer
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeThrottle answers as each protocol's service throttles.
func writeThrottle(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "DynamoDB_"):
		writeAWSError(w, r, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded (injected by faultproxy)")
	case target != "":
		writeAWSError(w, r, http.StatusBadRequest, "ThrottlingException", "Rate exceeded (injected by faultproxy)")
	default:
		writeAWSError(w, r, http.StatusTooManyRequests, "TooManyRequestsException", "Too many requests (injected by faultproxy)")
	}
}

// writeAWSError writes an error in the request's protocol: awsJson (X-Amz-Target) puts
// the code in "__type", REST-JSON in the X-Amzn-ErrorType header.
func writeAWSError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("faultproxy-%d", time.Now().UnixNano()))
	if r.Header.Get("X-Amz-Target") != "" {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
			code = "com.amazonaws.dynamodb.v20120810#" + code
		}
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// dataPlane are the DynamoDB operations that accept ReturnConsumedCapacity.
var dataPlane = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactGetItems": true, "TransactWriteItems": true,
}

// readOps consume read capacity; the other data-plane operations write.
var readOps = map[string]bool{"GetItem": true, "Query": true, "Scan": true, "BatchGetItem": true, "TransactGetItems": true}

func askCapacity(op string, body []byte) []byte {
	if !dataPlane[op] {
		return body
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	if _, set := m["ReturnConsumedCapacity"]; set {
		return body
	}
	m["ReturnConsumedCapacity"] = json.RawMessage(`"TOTAL"`)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// decoded is an answer's body without its content encoding (nil if it cannot be read).
func decoded(encoding string, body []byte) []byte {
	if !strings.EqualFold(encoding, "gzip") {
		return body
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	return plain
}

// consumed reads ConsumedCapacity from a DynamoDB answer: one object, or a list of them
// for batch and transaction operations.
func consumed(op, encoding string, body []byte) (read, write float64, reported bool) {
	if !dataPlane[op] {
		return 0, 0, false
	}
	if body = decoded(encoding, body); body == nil {
		return 0, 0, false
	}
	var resp struct {
		ConsumedCapacity json.RawMessage
	}
	if json.Unmarshal(body, &resp) != nil || len(resp.ConsumedCapacity) == 0 {
		return 0, 0, false
	}
	type capacity struct {
		CapacityUnits      float64
		ReadCapacityUnits  float64
		WriteCapacityUnits float64
	}
	var list []capacity
	if resp.ConsumedCapacity[0] == '[' {
		if json.Unmarshal(resp.ConsumedCapacity, &list) != nil {
			return 0, 0, false
		}
	} else {
		var one capacity
		if json.Unmarshal(resp.ConsumedCapacity, &one) != nil {
			return 0, 0, false
		}
		list = []capacity{one}
	}
	for _, c := range list {
		switch {
		case c.ReadCapacityUnits != 0 || c.WriteCapacityUnits != 0:
			read += c.ReadCapacityUnits
			write += c.WriteCapacityUnits
		case readOps[op]:
			read += c.CapacityUnits
		default:
			write += c.CapacityUnits
		}
	}
	return read, write, true
}
