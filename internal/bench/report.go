package bench

import (
	"math"
	"sort"
	"time"
)

// Report is what a run measured; cmd/bench writes it as JSON and Markdown. Durations
// are in milliseconds, money in US dollars (a report, not a ledger: floats are fine here).
type Report struct {
	GeneratedAt time.Time `json:"generatedAt"`
	Machine     Machine   `json:"machine"`
	Levels      []Level   `json:"levels"`
	// Costs are the per-step averages measured at concurrency 1, where steps do not
	// overlap and each call can be attributed to the step that made it.
	Costs    []StepCost `json:"costs"`
	PerOrder PerOrder   `json:"perOrder"`
	// Floor is one GetItem of a tiny item, through the same proxy the functions use.
	Floor Latency `json:"dynamodbFloor"`
	// WriteFloor is one PutItem of the same tiny item: DynamoDB Local's writes (SQLite)
	// cost more than its reads, and most steps write.
	WriteFloor Latency `json:"dynamodbWriteFloor"`
	// APIFloor is GET /catalog, answered from the function's shop cache without a
	// DynamoDB call: the fixed cost of a request through the gateway emulation.
	APIFloor Latency `json:"apiFloor"`
	// CPU is the CPU time per request of each API step, in a process of its own.
	CPU        *CPU        `json:"cpuPerRequest,omitempty"`
	Binaries   []Binary    `json:"binaries"`
	ColdStarts []ColdStart `json:"coldStarts"`
	Cost       Cost        `json:"cost"`
	Targets    []Target    `json:"targets"`
	Notes      []string    `json:"notes"`
}

// Machine says where the numbers come from.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"goVersion"`
}

// Level is one concurrency level's run.
type Level struct {
	Concurrency int       `json:"concurrency"`
	Orders      int       `json:"orders"`
	Completed   int       `json:"completed"`
	Errors      []string  `json:"errors,omitempty"`
	WallMs      float64   `json:"wallMs"`
	OrdersPerS  float64   `json:"ordersPerSecond"`
	Steps       []Latency `json:"steps"`
	// DynamoDBCallsPerOrder is every DynamoDB call of the level divided by its orders.
	DynamoDBCallsPerOrder float64 `json:"dynamodbCallsPerOrder"`
}

// Latency summarises one step's durations.
type Latency struct {
	Step string  `json:"step"`
	N    int     `json:"n"`
	P50  float64 `json:"p50Ms"`
	P95  float64 `json:"p95Ms"`
	P99  float64 `json:"p99Ms"`
	Max  float64 `json:"maxMs"`
}

// StepCost is what one step costs on average per order.
type StepCost struct {
	Step string `json:"step"`
	// DynamoDB is the mean number of DynamoDB calls; Ops breaks it down by operation.
	DynamoDB float64 `json:"dynamodbCalls"`
	// Rounds is the mean number of round trips of latency: overlapping calls count once.
	Rounds float64            `json:"dynamodbRoundTrips"`
	Ops    map[string]float64 `json:"ops"`
	// Other counts the Step Functions and SES calls.
	Other      float64 `json:"otherServiceCalls"`
	ReadUnits  float64 `json:"readUnits"`
	WriteUnits float64 `json:"writeUnits"`
	// ModelWriteUnits are the write units computed from the items' sizes (ItemModel).
	ModelWriteUnits float64 `json:"writeUnitsFromItemSizes"`
	// WriteParts breaks ModelWriteUnits down by operation and item kind
	// (ItemWrite.Label: "TransactWriteItems/Put TX ORDER" → units per order).
	WriteParts map[string]float64 `json:"writeUnitsByItem,omitempty"`
	// WriteSizes is, for the same labels, the largest item written, in bytes: how far
	// an item is from its next unit (1,024 bytes each).
	WriteSizes map[string]int `json:"largestItemBytes,omitempty"`
	// LocalLMS counts the calls the local LMS fake makes to the table for its own
	// records (a third party's storage, not the checkout's): not in DynamoDB.
	LocalLMS float64 `json:"localLmsCalls"`
	// P50 at concurrency 1, and its ratio to the DynamoDB floor: per round trip (P50 /
	// (floor × round trips)) and to a single round trip (P50 / floor).
	P50           float64 `json:"p50Ms"`
	RatioPerCall  float64 `json:"ratioToFloorPerRoundTrip"`
	RatioOneTrip  float64 `json:"ratioToOneRoundTrip"`
	CapacityKnown bool    `json:"capacityReported"`
}

// PerOrder adds up one paid order.
type PerOrder struct {
	DynamoDBCalls    float64 `json:"dynamodbCalls"`
	ServiceCalls     float64 `json:"serviceCalls"`
	ReadUnits        float64 `json:"readUnits"`
	WriteUnits       float64 `json:"writeUnits"`
	ModelWriteUnits  float64 `json:"writeUnitsFromItemSizes"`
	LocalLMSCalls    float64 `json:"localLmsCalls"`
	StateTransitions float64 `json:"stateTransitions"` // Standard, billed per transition
	// ExpressRequests are the Express runs an order starts, ExpressGBSeconds what their
	// durations are billed (ExpressGBSeconds).
	ExpressRequests  float64 `json:"expressRequests"`
	ExpressGBSeconds float64 `json:"expressGBSeconds"`
	TaskInvocations  float64 `json:"taskInvocations"`
	APIRequests      float64 `json:"apiRequests"`
	Emails           float64 `json:"emails"`
	// LambdaMs bounds the functions' run time per order: the API steps' p50 plus the
	// workflow's wall time (its tasks run one after the other).
	LambdaMs float64 `json:"lambdaMsUpperBound"`
}

// Binary is one function's bootstrap: its size in bytes, and in MiB (2^20 bytes), the
// unit ls -lh and most tools print.
type Binary struct {
	Function string  `json:"function"`
	Bytes    int64   `json:"bytes"`
	MiB      float64 `json:"mib"`
}

// ColdStart is one bootstrap started under a minimal Lambda Runtime API.
type ColdStart struct {
	Function string `json:"function"`
	// InitMs runs from exec to the first GET …/invocation/next: the runtime's init.
	InitMs float64 `json:"initMs"`
	// FirstResponseMs runs from exec to the first invocation's answer.
	FirstResponseMs float64 `json:"firstResponseMs"`
	Event           string  `json:"event"`
	Outcome         string  `json:"outcome"`
	Error           string  `json:"error,omitempty"`
}

// Target is one of the targets and whether the run met it.
type Target struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	Note     string `json:"note,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// summarize computes nearest-rank percentiles.
func summarize(step string, ds []time.Duration) Latency {
	l := Latency{Step: step, N: len(ds)}
	if len(ds) == 0 {
		return l
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	l.P50, l.P95, l.P99, l.Max = ms(rank(0.50)), ms(rank(0.95)), ms(rank(0.99)), ms(s[len(s)-1])
	return l
}
