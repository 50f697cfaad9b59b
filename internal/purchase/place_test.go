package purchase_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
	"github.com/lmsshop/checkout/internal/httpapi"
	"github.com/lmsshop/checkout/internal/production"
	"github.com/lmsshop/checkout/internal/production/locallms"
	"github.com/lmsshop/checkout/internal/purchase"
	"github.com/lmsshop/checkout/internal/store"
	"github.com/lmsshop/checkout/internal/trace"
)

// apiDomain is the default endpoint's domain, as HTTP API puts it in requestContext.
const apiDomain = "abc123.execute-api.eu-west-3.amazonaws.com"

// gatewayRequest is a payload-2.0 request as HTTP API sends it to the function.
func gatewayRequest(domain string, headers map[string]string) *httpapi.Request {
	return &httpapi.Request{Headers: headers, RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: domain}}
}

// recorder is a workflow starter that keeps the inputs it was given.
type recorder struct{ inputs []checkout.ExecutionInput }

func (r *recorder) Start(_ context.Context, _ string, input any) (string, error) {
	r.inputs = append(r.inputs, input.(checkout.ExecutionInput))
	return "arn", nil
}

// placement is a demo shop, a cart ready to be placed, and the ORDER step's routes.
type placement struct {
	t          *testing.T
	db         *dynamodb.Client
	table      string
	st         *store.Store
	rt         *httpapi.Router
	wf         *recorder
	tx, token  string
	buyerEmail string
	lms        *locallms.LMS // the LMS placement checks a certificate's enrolment in
	lmsDown    bool
}

func newPlacement(t *testing.T) *placement {
	t.Helper()
	wf := &recorder{}
	svc, st, _ := demoPurchase(t, wf)
	p := &placement{t: t, db: st.DB, table: st.Table, st: st, wf: wf, buyerEmail: "ada-" + strings.ToLower(trace.NewTxID()) + "@example.com"}
	p.lms = locallms.New(st.DB, st.Table)
	if err := p.lms.Seed(context.Background(), "GO-101"); err != nil {
		t.Fatal(err)
	}
	svc.Unmet = func(ctx context.Context, plan []production.Planned) (map[string]string, error) {
		if p.lmsDown {
			return nil, errors.New("connection refused")
		}
		return production.Unmet(ctx, p.lms, plan)
	}
	p.rt = httpapi.NewRouter(nil)
	svc.RegisterShop(p.rt)
	svc.RegisterCustomer(p.rt)
	svc.RegisterOrder(p.rt)
	var created purchase.Created
	if err := json.Unmarshal([]byte(p.serve("POST /carts", "", apiDomain, "").Body), &created); err != nil {
		t.Fatal(err)
	}
	p.tx, p.token = created.TransactionID, created.CartToken
	p.mustServe("PUT /carts/{txid}/lines/{code}", "GO-101", `{"quantity":1}`)
	p.mustServe("PUT /carts/{txid}/customer", "", `{"email":"`+p.buyerEmail+`","lastName":"Lovelace","firstName":"Ada","address":"1 rue","zip":"75001","city":"Paris","country":"FR"}`)
	return p
}

func (p *placement) serve(routeKey, code, domain, body string) httpapi.Response {
	p.t.Helper()
	r := gatewayRequest(domain, map[string]string{"content-type": "application/json", "x-forwarded-proto": "https", "x-forwarded-port": "443"})
	r.RouteKey, r.Body = routeKey, body
	r.PathParameters = map[string]string{"txid": p.tx, "code": code}
	if p.token != "" {
		r.Headers["authorization"] = "Bearer " + p.token
	}
	resp, err := p.rt.Serve(context.Background(), *r)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp
}

func (p *placement) mustServe(routeKey, code, body string) {
	p.t.Helper()
	if resp := p.serve(routeKey, code, apiDomain, body); resp.StatusCode >= 300 {
		p.t.Fatalf("%s = %d %s", routeKey, resp.StatusCode, resp.Body)
	}
}

func (p *placement) place(domain string) httpapi.Response {
	p.t.Helper()
	return p.serve("POST /carts/{txid}/order", "", domain, `{"acceptTerms":true,"paymode":"check"}`)
}

// items reads every item the placement could write: the transaction's partition (cart,
// order, trace lines) and the buyer's account.
func (p *placement) items() []map[string]types.AttributeValue {
	p.t.Helper()
	var all []map[string]types.AttributeValue
	for _, pk := range []string{"TX#" + p.tx, "CUST#" + p.buyerEmail} {
		out, err := p.db.Query(context.Background(), &dynamodb.QueryInput{
			TableName: aws.String(p.table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			p.t.Fatal(err)
		}
		all = append(all, out.Items...)
	}
	return all
}

// Placement stores the API's URL, taken from the request, on the order and passes it
// in the execution input; a replay, even through another domain, starts the workflow
// with the same input.
func TestPlacementCarriesTheAPIURLFromTheRequest(t *testing.T) {
	p := newPlacement(t)
	resp := p.place(apiDomain)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("placement = %d %s", resp.StatusCode, resp.Body)
	}
	o, err := p.st.GetOrder(context.Background(), p.tx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://" + apiDomain; o.APIURL != want {
		t.Errorf("order's apiUrl = %q, want %q", o.APIURL, want)
	}
	if len(p.wf.inputs) != 1 || p.wf.inputs[0].APIURL != o.APIURL || p.wf.inputs[0].TxID != p.tx {
		t.Fatalf("execution inputs = %+v, want one with the order's apiUrl", p.wf.inputs)
	}
	if resp := p.place("api.shop.example"); resp.StatusCode != http.StatusOK {
		t.Fatalf("replay = %d %s", resp.StatusCode, resp.Body)
	}
	// Step Functions compares inputs as JSON text: the same text starts nothing twice.
	if len(p.wf.inputs) != 2 || jsonText(t, p.wf.inputs[1]) != jsonText(t, p.wf.inputs[0]) {
		t.Errorf("replay started with %+v, want the first input %+v", p.wf.inputs[len(p.wf.inputs)-1], p.wf.inputs[0])
	}
}

// A request that does not say where the API is reached is refused before anything is
// written.
func TestPlacementWithoutTheAPIsDomainWritesNothing(t *testing.T) {
	p := newPlacement(t)
	before := p.items()
	resp := p.place("")
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("placement without requestContext.domainName = %d %s, want 400", resp.StatusCode, resp.Body)
	}
	if after := p.items(); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused placement changed the table: %d items before, %d after", len(before), len(after))
	}
	if len(p.wf.inputs) != 0 {
		t.Errorf("the workflow was started: %+v", p.wf.inputs)
	}
}

// A cart that expired between the placement's read and its transaction (DynamoDB has
// not applied the TTL yet, so the item is still there) is refused by the transaction's
// own condition: 410, no order, the cart as it was, no account, no trace line.
func TestPlacementOfAnExpiredCartIsRefusedByTheTransaction(t *testing.T) {
	p := newPlacement(t)
	before := p.items()
	// The handler's clock still sees the cart alive; the store's, which writes the
	// transaction, is past the cart's expiry (CartTTL is an hour).
	p.st.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	resp := p.place(apiDomain)
	if resp.StatusCode != http.StatusGone {
		t.Errorf("placement of an expired cart = %d %s, want 410", resp.StatusCode, resp.Body)
	}
	if after := p.items(); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused placement changed the table: %d items before, %d after", len(before), len(after))
	}
	if _, err := p.st.GetOrder(context.Background(), p.tx, ""); checkout.KindOf(err) != checkout.ENOTFOUND {
		t.Errorf("order after the refusal: %v, want none", err)
	}
	if len(p.wf.inputs) != 0 {
		t.Errorf("the workflow was started: %+v", p.wf.inputs)
	}
	// Still alive by the store's clock, the same cart places.
	p.st.Now = time.Now
	if resp := p.place(apiDomain); resp.StatusCode != http.StatusCreated {
		t.Errorf("placement of the live cart = %d %s, want 201", resp.StatusCode, resp.Body)
	}
}

// A certificate is released only to a learner enrolled in its course: placement refuses
// (422, the line in fields, with the reason) a cart whose buyer is not and does not buy
// the course before it, and the order
// is not written, the cart and the buyer's account stay as they were, no LMS account
// is created and no workflow starts; the refusal is traced. Bought with its course (the
// bundle), or by an enrolled buyer, it places. An LMS that cannot be asked refuses with
// 503 and writes nothing either.
func TestPlacementOfAnUndeliverableCertificate(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string // cart lines besides GO-101, which the fixture holds
		enrolled bool
		lmsDown  bool
		want     int
		wantWhy  string
	}{
		{name: "a buyer not enrolled", lines: []string{"-GO-101", "CERT-GO"}, want: http.StatusUnprocessableEntity,
			wantWhy: "the certificate of GO-101 is released only to a learner enrolled in that course"},
		{name: "the LMS cannot be asked", lines: []string{"-GO-101", "CERT-GO"}, lmsDown: true, want: http.StatusServiceUnavailable,
			wantWhy: "the learning platform cannot be reached"},
		{name: "an enrolled buyer", lines: []string{"-GO-101", "CERT-GO"}, enrolled: true, want: http.StatusCreated},
		{name: "the bundle: the course before its certificate", lines: []string{"-GO-101", "GO-BUNDLE"}, want: http.StatusCreated},
		{name: "the course and its certificate in one order", lines: []string{"CERT-GO"}, want: http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPlacement(t)
			ctx := context.Background()
			for _, code := range tt.lines {
				qty := `{"quantity":1}`
				if c, removed := strings.CutPrefix(code, "-"); removed {
					code, qty = c, `{"quantity":0}`
				}
				p.mustServe("PUT /carts/{txid}/lines/{code}", code, qty)
			}
			if tt.enrolled {
				uid, _, err := p.lms.EnsureUser(ctx, production.Person{Email: p.buyerEmail})
				if err != nil {
					t.Fatal(err)
				}
				if err := p.lms.Enrol(ctx, production.Enrolment{User: uid, Course: "GO-101", Role: "student"}); err != nil {
					t.Fatal(err)
				}
			}
			p.lmsDown = tt.lmsDown
			before := untraced(p.items())
			resp := p.place(apiDomain)
			if resp.StatusCode != tt.want || !strings.Contains(resp.Body, tt.wantWhy) {
				t.Fatalf("placement = %d %s, want %d saying %q", resp.StatusCode, resp.Body, tt.want, tt.wantWhy)
			}
			if tt.want == http.StatusCreated {
				return
			}
			if tt.want == http.StatusUnprocessableEntity && !strings.Contains(resp.Body, `"field":"SHOP:lines.CERT-GO"`) {
				t.Errorf("refusal %s does not name the line CERT-GO", resp.Body)
			}
			if after := untraced(p.items()); !reflect.DeepEqual(before, after) {
				t.Errorf("a refused placement changed the table: %d items before, %d after (trace lines left out)", len(before), len(after))
			}
			if _, err := p.st.GetOrder(ctx, p.tx, ""); checkout.KindOf(err) != checkout.ENOTFOUND {
				t.Errorf("order after the refusal: %v, want none", err)
			}
			if _, err := p.lms.FindUser(ctx, p.buyerEmail); !errors.Is(err, production.ErrNotFound) {
				t.Errorf("LMS account after the refusal: %v, want none created", err)
			}
			if len(p.wf.inputs) != 0 {
				t.Errorf("the workflow was started: %+v", p.wf.inputs)
			}
			tr, err := p.st.ListTrace(ctx, p.tx)
			if err != nil {
				t.Fatal(err)
			}
			if text := fmt.Sprint(tr); !strings.Contains(text, "placement refused") {
				t.Errorf("refusal not traced: %s", text)
			}
		})
	}
}

// untraced leaves out trace lines, which a refusal writes on purpose.
func untraced(items []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	var out []map[string]types.AttributeValue
	for _, it := range items {
		if sk, ok := it["sk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, "TRACE#") {
			continue
		}
		out = append(out, it)
	}
	return out
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Placement encodes the order once for its answer and the execution input: the answer
// is byte for byte what JSON(status, Placed{Order}) writes, the first placement's and a
// replay's alike, and the input carries the same order, as the table holds it.
func TestPlacementAnswersAndStartsWithTheSameOrder(t *testing.T) {
	p := newPlacement(t)
	for i, want := range []int{http.StatusCreated, http.StatusOK} {
		resp := p.place(apiDomain)
		if resp.StatusCode != want {
			t.Fatalf("placement %d = %d %s, want %d", i+1, resp.StatusCode, resp.Body, want)
		}
		var answered purchase.Placed
		if err := json.Unmarshal([]byte(resp.Body), &answered); err != nil {
			t.Fatal(err)
		}
		if again := httpapi.JSON(want, answered); resp.Body != again.Body || !reflect.DeepEqual(resp.Headers, again.Headers) {
			t.Errorf("placement %d answered\n%s %v\nwant what JSON writes\n%s %v", i+1, resp.Body, resp.Headers, again.Body, again.Headers)
		}
		stored, err := p.st.GetOrder(context.Background(), p.tx, "")
		if err != nil {
			t.Fatal(err)
		}
		if jsonText(t, stored) != jsonText(t, answered.Order) {
			t.Errorf("placement %d answered %s\nthe table holds %s", i+1, jsonText(t, answered.Order), jsonText(t, stored))
		}
		if len(p.wf.inputs) != i+1 || string(p.wf.inputs[i].Order) != jsonText(t, answered.Order) {
			t.Errorf("placement %d started the workflow with order %s, want the answer's %s", i+1, p.wf.inputs[len(p.wf.inputs)-1].Order, jsonText(t, answered.Order))
		}
	}
}
