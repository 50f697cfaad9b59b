package bench

import (
	"fmt"
	"math"
	"time"
)

// Prices are AWS list prices in us-east-1, in US dollars, without free tiers.
type Prices struct {
	LambdaRequest   float64 // per request
	LambdaGBSecond  float64 // arm64, per GB-second
	HTTPAPIRequest  float64 // per request (first 300 million a month)
	DynamoDBRead    float64 // on-demand, per read request unit
	DynamoDBWrite   float64 // on-demand, per write request unit
	StateTransition float64 // Step Functions Standard, per transition
	ExpressRequest  float64 // Step Functions Express, per execution started
	ExpressGBSecond float64 // Step Functions Express, per GB-second (first tier)
	Email           float64 // SES, per outbound message
	Source          string
}

// ListPrices are the published us-east-1 prices this report uses.
var ListPrices = Prices{
	LambdaRequest:   0.20 / 1e6,
	LambdaGBSecond:  0.0000133334,
	HTTPAPIRequest:  1.00 / 1e6,
	DynamoDBRead:    0.125 / 1e6,
	DynamoDBWrite:   0.625 / 1e6,
	StateTransition: 0.025 / 1e3,
	ExpressRequest:  1.00 / 1e6,
	ExpressGBSecond: 0.00001667,
	Email:           0.10 / 1e3,
	Source: "aws.amazon.com pricing pages for us-east-1: Lambda arm64 $0.20 per 1M requests and $0.0000133334 per GB-s; " +
		"HTTP API $1.00 per 1M requests; DynamoDB on-demand $0.125 per 1M read and $0.625 per 1M write request units " +
		"(prices since 1 Nov 2024); Step Functions Standard $0.025 per 1,000 state transitions; Step Functions Express $1.00 per 1M requests and " +
		"$0.00001667 per GB-s (the first 1,000 GB-hours a month; each run billed in 100 ms steps and 64 MB chunks, 64 MB at least); SES $0.10 per 1,000 e-mails. " +
		"Free tiers, storage, data transfer and CloudWatch Logs are left out.",
}

// Cost is the model for 1,000 orders.
type Cost struct {
	Lines []CostLine `json:"lines"`
	// Per1000 is the total for 1,000 paid orders, in US dollars.
	Per1000 float64 `json:"per1000OrdersUSD"`
	Prices  string  `json:"prices"`
}

// CostLine is one service's share, with the formula that gives it.
type CostLine struct {
	Service  string  `json:"service"`
	Formula  string  `json:"formula"`
	Per1000  float64 `json:"per1000OrdersUSD"`
	Quantity float64 `json:"quantityPerOrder"`
}

// CostOf prices 1,000 orders shaped like o, with functions of memoryMB.
func CostOf(o PerOrder, memoryMB int, p Prices) Cost {
	gb := float64(memoryMB) / 1024
	invocations := o.APIRequests + o.TaskInvocations
	gbs := gb * o.LambdaMs / 1000
	// Writes are priced from the units computed by AWS's published rules (item sizes,
	// transactions twice); DynamoDB Local counts a transaction's items four times, so
	// its own figure is used only when the model saw nothing.
	wru, wruFrom := o.ModelWriteUnits, "from item sizes"
	if wru == 0 {
		wru, wruFrom = o.WriteUnits, "DynamoDB Local's count"
	}
	lines := []CostLine{
		{"Lambda requests", fmt.Sprintf("1000 × (%.1f API + %.1f task invocations) × $%.2f/1M", o.APIRequests, o.TaskInvocations, p.LambdaRequest*1e6),
			1000 * invocations * p.LambdaRequest, invocations},
		{"Lambda duration (arm64)", fmt.Sprintf("1000 × %.3f GB × %.1f ms ÷ 1000 × $%.10f/GB-s", gb, o.LambdaMs, p.LambdaGBSecond),
			1000 * gbs * p.LambdaGBSecond, gbs},
		{"HTTP API", fmt.Sprintf("1000 × %.1f requests × $%.2f/1M", o.APIRequests, p.HTTPAPIRequest*1e6),
			1000 * o.APIRequests * p.HTTPAPIRequest, o.APIRequests},
		{"DynamoDB reads (on-demand)", fmt.Sprintf("1000 × %.2f RRU × $%.3f/1M", o.ReadUnits, p.DynamoDBRead*1e6),
			1000 * o.ReadUnits * p.DynamoDBRead, o.ReadUnits},
		{"DynamoDB writes (on-demand)", fmt.Sprintf("1000 × %.2f WRU (%s) × $%.3f/1M", wru, wruFrom, p.DynamoDBWrite*1e6),
			1000 * wru * p.DynamoDBWrite, wru},
		{"Step Functions Standard", fmt.Sprintf("1000 × %.1f transitions × $%.3f/1000", o.StateTransitions, p.StateTransition*1e3),
			1000 * o.StateTransitions * p.StateTransition, o.StateTransitions},
		{"Step Functions Express requests", fmt.Sprintf("1000 × %.1f runs × $%.2f/1M", o.ExpressRequests, p.ExpressRequest*1e6),
			1000 * o.ExpressRequests * p.ExpressRequest, o.ExpressRequests},
		{"Step Functions Express duration", fmt.Sprintf("1000 × %.4f GB-s (runs' durations rounded up to 100 ms × 64 MB) × $%.8f/GB-s", o.ExpressGBSeconds, p.ExpressGBSecond),
			1000 * o.ExpressGBSeconds * p.ExpressGBSecond, o.ExpressGBSeconds},
		{"SES", fmt.Sprintf("1000 × %.1f e-mails × $%.2f/1000", o.Emails, p.Email*1e3),
			1000 * o.Emails * p.Email, o.Emails},
	}
	c := Cost{Lines: lines, Prices: p.Source}
	for _, l := range lines {
		c.Per1000 += l.Per1000
	}
	return c
}

// expressBilledMemoryGB is what an Express run of the checkout is billed for: AWS
// bills memory in 64 MB chunks, and a run's memory (about 50 MB plus the definition
// and its data, a few KB here) fits the first.
const expressBilledMemoryGB = 64.0 / 1024

// ExpressGBSeconds is what one Express run of duration d is billed: d rounded up to the
// next 100 ms, times the billed memory.
func ExpressGBSeconds(d time.Duration) float64 {
	tenths := math.Ceil(d.Seconds() * 10)
	return tenths / 10 * expressBilledMemoryGB
}
