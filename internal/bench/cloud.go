// Package bench measures the checkout on the local cloud: full purchases at rising
// concurrency, with each step's latency seen from the client, the DynamoDB round trips
// and capacity it costs (counted by a proxy between the functions and DynamoDB Local),
// the state transitions of each order's workflow, the functions' binary sizes and cold
// starts, and a cost model at AWS list prices. cmd/bench writes the report.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/localcloud/faultproxy"
	"github.com/lmsshop/checkout/internal/localcloud/launcher"
	"github.com/lmsshop/checkout/internal/store"
)

// Cloud is a local cloud whose functions reach DynamoDB, Step Functions and SES through
// proxies that count every call and can inject faults.
type Cloud struct {
	*launcher.Cloud
	// Proxies are keyed by launcher.ServiceDynamoDB, ServiceStepFunctions, ServiceSES.
	Proxies map[string]*faultproxy.Proxy
	// Calls logs every call the proxies handled.
	Calls *CallLog
	// Direct reaches DynamoDB Local without a proxy: reads made to check or observe
	// the system are neither counted nor faulted.
	Direct *dynamodb.Client
	// Store is the checkout's store over Direct.
	Store *store.Store
}

// StartCloud starts the local cloud on free ports with a proxy in front of each AWS
// service. The proxies start without faults; DynamoDB answers report consumed capacity.
func StartCloud(ctx context.Context, repoRoot string, log *slog.Logger) (*Cloud, error) {
	c := &Cloud{Proxies: map[string]*faultproxy.Proxy{}, Calls: &CallLog{}}
	var seed uint64 = 1
	through := func(service, endpoint string) (string, error) {
		p, err := faultproxy.New(endpoint, faultproxy.Options{
			Name:        strings.ToLower(service),
			AskCapacity: service == launcher.ServiceDynamoDB,
			KeepBodies:  service == launcher.ServiceDynamoDB,
			Seed:        seed,
			Observe:     c.Calls.add,
		})
		if err != nil {
			return "", err
		}
		seed++
		url, err := p.Listen()
		if err != nil {
			return "", err
		}
		c.Proxies[service] = p
		return url, nil
	}
	lc, err := launcher.StartThrough(ctx, launcher.Config{RepoRoot: repoRoot, Logger: log}, through)
	if err != nil {
		c.closeProxies()
		return nil, fmt.Errorf("bench: start the local cloud: %w", err)
	}
	c.Cloud = lc
	c.Direct = dynamodb.NewFromConfig(lc.AWS, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(lc.DynamoDBURL) })
	c.Store = store.New(c.Direct, lc.Table)
	model, err := tableModel(ctx, c.Direct, lc.Table)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	c.Calls.setModel(model)
	return c, nil
}

// SetFaults applies f to the proxy of one service (launcher.ServiceDynamoDB, …).
func (c *Cloud) SetFaults(service string, f faultproxy.Faults) error {
	p, ok := c.Proxies[service]
	if !ok {
		return fmt.Errorf("bench: no proxy for %s", service)
	}
	return p.SetFaults(f)
}

// Close stops the cloud, then the proxies.
func (c *Cloud) Close() error {
	var err error
	if c.Cloud != nil {
		err = c.Cloud.Close()
	}
	c.closeProxies()
	return err
}

func (c *Cloud) closeProxies() {
	for _, p := range c.Proxies {
		_ = p.Close()
	}
}

// tableModel is the item-size model of the table as DynamoDB Local created it from the
// template: its keys and its indexes' keys and projections.
func tableModel(ctx context.Context, db *dynamodb.Client, table string) (*ItemModel, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return nil, fmt.Errorf("bench: describe %s: %w", table, err)
	}
	keys := func(ks []types.KeySchemaElement) (hash, rng string) {
		for _, k := range ks {
			if k.KeyType == types.KeyTypeHash {
				hash = aws.ToString(k.AttributeName)
			} else {
				rng = aws.ToString(k.AttributeName)
			}
		}
		return hash, rng
	}
	hash, rng := keys(out.Table.KeySchema)
	var idx []ModelIndex
	for _, g := range out.Table.GlobalSecondaryIndexes {
		h, r := keys(g.KeySchema)
		ix := ModelIndex{Name: aws.ToString(g.IndexName), Hash: h, Range: r}
		if g.Projection != nil {
			ix.All = g.Projection.ProjectionType == types.ProjectionTypeAll
			ix.Include = g.Projection.NonKeyAttributes
		}
		idx = append(idx, ix)
	}
	return NewItemModel(hash, rng, idx), nil
}

// proxyLocalLMS names, in the records, the DynamoDB calls of the local LMS fake.
const proxyLocalLMS = "locallms"

// localLMS reports whether a DynamoDB request touches only the local LMS's items
// (LMS#… keys, internal/store/production.go) and none of the checkout's.
func localLMS(req []byte) bool {
	b := string(req)
	if !strings.Contains(b, `"S":"LMS#`) {
		return false
	}
	for _, p := range []string{"TX#", "CUST#", "SHOP#", "CATALOG#", "PARTNER#", "COUNTER#", "PRODUCT#"} {
		if strings.Contains(b, `"S":"`+p) {
			return false
		}
	}
	return true
}

// CallLog keeps the proxies' records, in the order they completed.
type CallLog struct {
	mu    sync.Mutex
	recs  []faultproxy.Record
	model *ItemModel
}

func (l *CallLog) setModel(m *ItemModel) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.model = m
}

func (l *CallLog) add(r faultproxy.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Request != nil && localLMS(r.Request) {
		// The local LMS is the fake of a third party (Moodle over HTTPS in AWS) that
		// keeps its records in the table: its calls are not the checkout's DynamoDB calls.
		r.Proxy = proxyLocalLMS
	} else if l.model != nil && r.Request != nil {
		for _, w := range l.model.Writes(r.Op, r.Request, r.Response) {
			if r.ModelWriteParts == nil {
				r.ModelWriteParts, r.ModelWriteSizes = map[string]float64{}, map[string]int{}
			}
			r.ModelWriteUnits += w.Units
			r.ModelWriteParts[w.Label()] += w.Units
			r.ModelWriteSizes[w.Label()] = max(r.ModelWriteSizes[w.Label()], w.Size)
		}
	}
	r.Request, r.Response = nil, nil // the model has read them
	l.recs = append(l.recs, r)
}

// Len is the number of records so far: Between(Len(), …) reads what comes after.
func (l *CallLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

// Since returns the records from index i on, sorted by arrival.
func (l *CallLog) Since(i int) []faultproxy.Record {
	l.mu.Lock()
	out := append([]faultproxy.Record(nil), l.recs[min(i, len(l.recs)):]...)
	l.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	return out
}

// Window returns the records that arrived in [from, to).
func Window(recs []faultproxy.Record, from, to time.Time) []faultproxy.Record {
	var out []faultproxy.Record
	for _, r := range recs {
		if !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r)
		}
	}
	return out
}
