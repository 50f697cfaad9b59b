package sfnlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// machine is a parsed state machine or a Parallel branch / Map item processor.
type machine struct {
	StartAt        string            `json:"StartAt"`
	States         map[string]*state `json:"States"`
	TimeoutSeconds int               `json:"TimeoutSeconds"`
	Comment        string            `json:"Comment"`
	Version        string            `json:"Version"`
	QueryLanguage  string            `json:"QueryLanguage"`
}

// optPath is an InputPath/OutputPath/ResultPath/ItemsPath field, which distinguishes
// "absent" (defaults to $) from an explicit null (discard).
type optPath struct {
	set  bool
	null bool
	path *jsonPath
}

func (o *optPath) UnmarshalJSON(b []byte) error {
	o.set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.null = true
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("path must be a string or null: %w", err)
	}
	p, err := parsePath(s)
	if err != nil {
		return err
	}
	o.path = p
	return nil
}

// retrier is one element of a Retry array.
type retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds *float64 `json:"IntervalSeconds"`
	MaxAttempts     *int     `json:"MaxAttempts"`
	BackoffRate     *float64 `json:"BackoffRate"`
	MaxDelaySeconds *float64 `json:"MaxDelaySeconds"`
	JitterStrategy  string   `json:"JitterStrategy"`
}

// catcher is one element of a Catch array.
type catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Next        string   `json:"Next"`
	ResultPath  optPath  `json:"ResultPath"`
}

// state holds the fields of every state type; Type says which ones matter.
type state struct {
	name string

	Type          string  `json:"Type"`
	Comment       string  `json:"Comment"`
	QueryLanguage string  `json:"QueryLanguage"`
	Next          string  `json:"Next"`
	End           bool    `json:"End"`
	InputPath     optPath `json:"InputPath"`
	OutputPath    optPath `json:"OutputPath"`
	ResultPath    optPath `json:"ResultPath"`
	Parameters    any     `json:"Parameters"`

	// Task
	Resource             string    `json:"Resource"`
	ResultSelector       any       `json:"ResultSelector"`
	TimeoutSeconds       *int      `json:"TimeoutSeconds"`
	TimeoutSecondsPath   string    `json:"TimeoutSecondsPath"`
	HeartbeatSeconds     *int      `json:"HeartbeatSeconds"`
	HeartbeatSecondsPath string    `json:"HeartbeatSecondsPath"`
	Retry                []retrier `json:"Retry"`
	Catch                []catcher `json:"Catch"`

	// Pass
	Result json.RawMessage `json:"Result"`

	// Choice
	Choices []*choiceRule `json:"Choices"`
	Default string        `json:"Default"`

	// Wait
	Seconds       *json.Number `json:"Seconds"`
	SecondsPath   string       `json:"SecondsPath"`
	Timestamp     string       `json:"Timestamp"`
	TimestampPath string       `json:"TimestampPath"`

	// Parallel
	Branches []*machine `json:"Branches"`

	// Map
	ItemsPath      optPath  `json:"ItemsPath"`
	ItemSelector   any      `json:"ItemSelector"`
	Iterator       *machine `json:"Iterator"`
	ItemProcessor  *machine `json:"ItemProcessor"`
	MaxConcurrency int      `json:"MaxConcurrency"`

	// Fail
	Error     string `json:"Error"`
	Cause     string `json:"Cause"`
	ErrorPath string `json:"ErrorPath"`
	CausePath string `json:"CausePath"`
}

// processor returns the Map state's item processor, whichever key spelled it.
func (s *state) processor() *machine {
	if s.ItemProcessor != nil {
		return s.ItemProcessor
	}
	return s.Iterator
}

// itemTemplate returns ItemSelector or, in older definitions, Parameters of a Map state.
func (s *state) itemTemplate() any {
	if s.ItemSelector != nil {
		return s.ItemSelector
	}
	return s.Parameters
}

var stateTypes = map[string]bool{
	"Task": true, "Pass": true, "Choice": true, "Wait": true, "Succeed": true,
	"Fail": true, "Parallel": true, "Map": true,
}

// parseDefinition decodes and validates an ASL document. All problems are reported
// together so an author can fix a definition in one go.
func parseDefinition(def []byte) (*machine, error) {
	dec := json.NewDecoder(bytes.NewReader(def))
	dec.UseNumber()
	var m machine
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("definition is not valid ASL JSON: %w", err)
	}
	var problems []string
	validateMachine(&m, "", &problems)
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return &m, nil
}

// entries yields the entries of a list that state name needs (its field, as
// "Choices"), with their index: an empty list is reported with missing (what the state
// needs), and each null entry as such, so that the caller checks only real entries.
func entries[T any](list []*T, name, field, missing string, add func(format string, a ...any)) iter.Seq2[int, *T] {
	return func(yield func(int, *T) bool) {
		if len(list) == 0 {
			add("state %q: %s", name, missing)
		}
		for i, e := range list {
			if e == nil {
				add("state %q %s[%d] is null", name, field, i)
				continue
			}
			if !yield(i, e) {
				return
			}
		}
	}
}

func validateMachine(m *machine, where string, problems *[]string) {
	add := func(format string, a ...any) {
		*problems = append(*problems, where+fmt.Sprintf(format, a...))
	}
	// JSONata needs a different evaluator altogether; refuse it rather than run it wrong.
	if m.QueryLanguage != "" && m.QueryLanguage != "JSONPath" {
		add("QueryLanguage %q is not supported (only JSONPath)", m.QueryLanguage)
	}
	if len(m.States) == 0 {
		add("States must not be empty")
		return
	}
	if _, ok := m.States[m.StartAt]; !ok {
		add("StartAt %q is not a state", m.StartAt)
	}
	names := slices.Sorted(maps.Keys(m.States))
	target := func(from, field, next string) {
		if _, ok := m.States[next]; !ok {
			add("state %q: %s %q is not a state", from, field, next)
		}
	}
	for _, name := range names {
		s := m.States[name]
		if s == nil {
			add("state %q is null", name)
			continue
		}
		s.name = name
		if len(name) > 80 {
			add("state name %q is longer than 80 characters", name)
		}
		if s.QueryLanguage != "" && s.QueryLanguage != "JSONPath" {
			add("state %q: QueryLanguage %q is not supported (only JSONPath)", name, s.QueryLanguage)
		}
		if !stateTypes[s.Type] {
			add("state %q: unknown Type %q", name, s.Type)
			continue
		}
		switch s.Type {
		case "Choice", "Succeed", "Fail":
			if s.Next != "" || s.End {
				add("state %q: a %s state takes neither Next nor End", name, s.Type)
			}
		default:
			switch {
			case s.Next != "" && s.End:
				add("state %q: has both Next and End", name)
			case s.Next == "" && !s.End:
				add("state %q: needs Next or End", name)
			case s.Next != "":
				target(name, "Next", s.Next)
			}
		}
		for i, c := range s.Catch {
			target(name, fmt.Sprintf("Catch[%d].Next", i), c.Next)
			validateErrorEquals(c.ErrorEquals, fmt.Sprintf("state %q Catch[%d]", name, i), i == len(s.Catch)-1, add)
		}
		for i, r := range s.Retry {
			validateErrorEquals(r.ErrorEquals, fmt.Sprintf("state %q Retry[%d]", name, i), i == len(s.Retry)-1, add)
			if r.MaxAttempts != nil && *r.MaxAttempts < 0 {
				add("state %q Retry[%d]: MaxAttempts must not be negative", name, i)
			}
			if r.BackoffRate != nil && *r.BackoffRate < 1 {
				add("state %q Retry[%d]: BackoffRate must be at least 1.0", name, i)
			}
			if r.IntervalSeconds != nil && *r.IntervalSeconds < 1 {
				add("state %q Retry[%d]: IntervalSeconds must be at least 1", name, i)
			}
		}
		if (len(s.Retry) > 0 || len(s.Catch) > 0) && s.Type != "Task" && s.Type != "Parallel" && s.Type != "Map" {
			add("state %q: Retry and Catch are only allowed on Task, Parallel and Map", name)
		}
		switch s.Type {
		case "Task":
			if _, ok := resourceKind(s.Resource); !ok {
				add("state %q: unsupported Task Resource %q (want lambda:invoke[.waitForTaskToken], a Lambda function ARN, states:startExecution[.sync|.sync:2|.waitForTaskToken] or aws-sdk:sfn:sendTaskSuccess/sendTaskFailure)", name, s.Resource)
			}
			if s.TimeoutSeconds != nil && s.TimeoutSecondsPath != "" {
				add("state %q: TimeoutSeconds and TimeoutSecondsPath are exclusive", name)
			}
			if s.HeartbeatSeconds != nil && s.HeartbeatSecondsPath != "" {
				add("state %q: HeartbeatSeconds and HeartbeatSecondsPath are exclusive", name)
			}
			if s.TimeoutSeconds != nil && *s.TimeoutSeconds <= 0 {
				add("state %q: TimeoutSeconds must be positive", name)
			}
			if s.HeartbeatSeconds != nil && *s.HeartbeatSeconds <= 0 {
				add("state %q: HeartbeatSeconds must be positive", name)
			}
			if s.TimeoutSeconds != nil && s.HeartbeatSeconds != nil && *s.HeartbeatSeconds >= *s.TimeoutSeconds {
				add("state %q: HeartbeatSeconds must be smaller than TimeoutSeconds", name)
			}
		case "Choice":
			for i, r := range entries(s.Choices, name, "Choices", "Choice needs at least one rule in Choices", add) {
				if err := r.validate(true); err != nil {
					add("state %q Choices[%d]: %v", name, i, err)
					continue
				}
				target(name, fmt.Sprintf("Choices[%d].Next", i), r.Next)
			}
			if s.Default != "" {
				target(name, "Default", s.Default)
			}
		case "Wait":
			n := 0
			for _, set := range []bool{s.Seconds != nil, s.SecondsPath != "", s.Timestamp != "", s.TimestampPath != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				add("state %q: Wait needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath", name)
			}
			if s.Seconds != nil {
				if v, err := toInt(*s.Seconds); err != nil || v < 0 {
					add("state %q: Seconds must be a non-negative integer", name)
				}
			}
			if s.Timestamp != "" {
				if _, err := parseTimestamp(s.Timestamp); err != nil {
					add("state %q: %v", name, err)
				}
			}
		case "Parallel":
			for i, b := range entries(s.Branches, name, "Branches", "Parallel needs Branches", add) {
				validateMachine(b, fmt.Sprintf("%sstate %q Branches[%d]: ", where, name, i), problems)
			}
		case "Map":
			p := s.processor()
			if p == nil {
				add("state %q: Map needs ItemProcessor (or Iterator)", name)
			} else {
				validateMachine(p, fmt.Sprintf("%sstate %q ItemProcessor: ", where, name), problems)
			}
			if s.MaxConcurrency < 0 {
				add("state %q: MaxConcurrency must not be negative", name)
			}
		case "Fail":
			if s.Error != "" && s.ErrorPath != "" {
				add("state %q: Error and ErrorPath are exclusive", name)
			}
			if s.Cause != "" && s.CausePath != "" {
				add("state %q: Cause and CausePath are exclusive", name)
			}
		case "Pass":
			if len(s.Result) > 0 {
				if _, err := decodeJSON(s.Result); err != nil {
					add("state %q: Result is not JSON: %v", name, err)
				}
			}
		}
	}
	// Every state must be reachable from StartAt, as the AWS validator demands.
	if _, ok := m.States[m.StartAt]; !ok {
		return
	}
	seen := map[string]bool{}
	queue := []string{m.StartAt}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		s, ok := m.States[n]
		if !ok || seen[n] || s == nil {
			continue
		}
		seen[n] = true
		queue = append(queue, s.Next, s.Default)
		for _, c := range s.Catch {
			queue = append(queue, c.Next)
		}
		for _, r := range s.Choices {
			if r != nil {
				queue = append(queue, r.Next)
			}
		}
	}
	for _, name := range names {
		if !seen[name] {
			add("state %q is not reachable from StartAt", name)
		}
	}
}

func validateErrorEquals(errs []string, where string, last bool, add func(string, ...any)) {
	if len(errs) == 0 {
		add("%s: ErrorEquals must not be empty", where)
	}
	for _, e := range errs {
		if e == "States.ALL" && (len(errs) != 1 || !last) {
			add("%s: States.ALL must appear alone in the last retrier or catcher", where)
		}
	}
}
