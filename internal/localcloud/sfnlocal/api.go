package sfnlocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// APIError is a Step Functions API error; Code is the AWS error code (e.g.
// ExecutionAlreadyExists) that the SDK turns into its typed error.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErrorf(code, format string, a ...any) error {
	return &APIError{Code: code, Message: fmt.Sprintf(format, a...)}
}

var (
	_ http.Handler = (*Engine)(nil)
	_ io.Closer    = (*Engine)(nil)
	_ error        = (*APIError)(nil)
	_ error        = (*FunctionError)(nil)
)

// maxRequestBody bounds request bodies; AWS caps execution input and task output at 256 KiB.
const maxRequestBody = 1 << 20

// ServeHTTP speaks the AWS JSON 1.0 protocol of Step Functions for the operations the
// checkout uses, so the real aws-sdk-go-v2 sfn client works against it via an endpoint
// override.
func (e *Engine) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, &APIError{Code: "InvalidAction", Message: "use POST"})
		return
	}
	op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	if !ok {
		writeError(w, http.StatusBadRequest, &APIError{Code: "UnknownOperationException", Message: "missing or unknown X-Amz-Target"})
		return
	}
	h, ok := e.ops[op]
	if !ok {
		writeError(w, http.StatusBadRequest, &APIError{Code: "UnknownOperationException", Message: "unsupported operation " + op})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxRequestBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, &APIError{Code: "ValidationException", Message: "reading request: " + err.Error()})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, err := h(body)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			ae = &APIError{Code: "InternalFailure", Message: err.Error()}
			writeError(w, http.StatusInternalServerError, ae)
			return
		}
		writeError(w, http.StatusBadRequest, ae)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out) // the client has gone if this fails
}

func writeError(w http.ResponseWriter, status int, ae *APIError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", ae.Code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.Code, "message": ae.Message})
}

type handler func(body []byte) (any, error)

// decode reads a request, rejecting malformed JSON as AWS's ValidationException.
func decode[T any](body []byte) (T, error) {
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return v, apiErrorf("ValidationException", "malformed request: %v", err)
	}
	return v, nil
}

func required(field, v string) error {
	if v == "" {
		return apiErrorf("ValidationException", "%s is required", field)
	}
	return nil
}

func (e *Engine) operations() map[string]handler {
	return map[string]handler{
		"CreateStateMachine":   e.apiCreateStateMachine,
		"DescribeStateMachine": e.apiDescribeStateMachine,
		"StartExecution":       e.apiStartExecution,
		"DescribeExecution":    e.apiDescribeExecution,
		"GetExecutionHistory":  e.apiGetExecutionHistory,
		"ListExecutions":       e.apiListExecutions,
		"StopExecution":        e.apiStopExecution,
		"SendTaskSuccess":      e.apiSendTaskSuccess,
		"SendTaskFailure":      e.apiSendTaskFailure,
		"SendTaskHeartbeat":    e.apiSendTaskHeartbeat,
	}
}

func (e *Engine) apiCreateStateMachine(body []byte) (any, error) {
	in, err := decode[struct {
		Name, Definition, RoleArn, Type string
	}](body)
	if err != nil {
		return nil, err
	}
	arn, err := e.CreateMachine(Machine{Name: in.Name, Definition: []byte(in.Definition), RoleArn: in.RoleArn, Type: in.Type})
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	created := e.machines[arn].created
	e.mu.Unlock()
	return map[string]any{"stateMachineArn": arn, "creationDate": epochSeconds(created)}, nil
}

func (e *Engine) apiDescribeStateMachine(body []byte) (any, error) {
	in, err := decode[struct{ StateMachineArn string }](body)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	sm, ok := e.machines[in.StateMachineArn]
	e.mu.Unlock()
	if !ok {
		return nil, apiErrorf("StateMachineDoesNotExist", "state machine does not exist: %s", in.StateMachineArn)
	}
	return map[string]any{
		"stateMachineArn": sm.arn, "name": sm.name, "status": "ACTIVE", "definition": sm.definition,
		"roleArn": sm.roleArn, "type": sm.typ, "creationDate": epochSeconds(sm.created),
	}, nil
}

func (e *Engine) apiStartExecution(body []byte) (any, error) {
	in, err := decode[struct{ StateMachineArn, Name, Input string }](body)
	if err != nil {
		return nil, err
	}
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	arn, start, err := e.StartExecution(in.StateMachineArn, in.Name, in.Input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"executionArn": arn, "startDate": epochSeconds(start)}, nil
}

func executionJSON(info ExecutionInfo, full bool) map[string]any {
	m := map[string]any{
		"executionArn": info.ExecutionArn, "stateMachineArn": info.StateMachineArn,
		"name": info.Name, "status": info.Status, "startDate": epochSeconds(info.StartDate),
	}
	if !info.StopDate.IsZero() {
		m["stopDate"] = epochSeconds(info.StopDate)
	}
	if !full {
		return m
	}
	m["input"] = info.Input
	m["inputDetails"] = map[string]any{"included": true}
	if info.Status == StatusSucceeded {
		m["output"] = info.Output
		m["outputDetails"] = map[string]any{"included": true}
	}
	if info.Error != "" {
		m["error"] = info.Error
	}
	if info.Cause != "" {
		m["cause"] = info.Cause
	}
	return m
}

// refuseExpress answers as AWS does for an Express execution, which DescribeExecution
// and GetExecutionHistory do not report (its history is in CloudWatch Logs only).
func refuseExpress(executionArn string) error {
	if isExpressExecution(executionArn) {
		return apiErrorf("InvalidArn", "Express executions are not supported by this operation: %s", executionArn)
	}
	return nil
}

func isExpressExecution(arn string) bool {
	parts := strings.Split(arn, ":")
	return len(parts) > 5 && parts[5] == "express"
}

func (e *Engine) apiDescribeExecution(body []byte) (any, error) {
	in, err := decode[struct{ ExecutionArn string }](body)
	if err != nil {
		return nil, err
	}
	if err := refuseExpress(in.ExecutionArn); err != nil {
		return nil, err
	}
	info, err := e.DescribeExecution(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	return executionJSON(info, true), nil
}

// page applies maxResults/nextToken paging (the token is the next offset) to n items.
func page(n, maxResults int, nextToken string) (from, to int, next string, err error) {
	if nextToken != "" {
		from, err = strconv.Atoi(nextToken)
		if err != nil || from < 0 || from > n {
			return 0, 0, "", apiErrorf("InvalidToken", "invalid nextToken")
		}
	}
	if maxResults <= 0 || maxResults > 1000 {
		maxResults = 1000
	}
	to = min(n, from+maxResults)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (e *Engine) apiGetExecutionHistory(body []byte) (any, error) {
	in, err := decode[struct {
		ExecutionArn         string
		MaxResults           int
		NextToken            string
		ReverseOrder         bool
		IncludeExecutionData *bool
	}](body)
	if err != nil {
		return nil, err
	}
	if err := refuseExpress(in.ExecutionArn); err != nil {
		return nil, err
	}
	evs, err := e.history(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	from, to, next, err := page(len(evs), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := evs[from:to]
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		out = withoutData(out)
	}
	resp := map[string]any{"events": out}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

// withoutData drops inputs, outputs and parameters, as includeExecutionData=false does.
func withoutData(evs []*event) []*event {
	out := make([]*event, len(evs))
	for i, ev := range evs {
		cp := *ev
		if ev.Details != nil {
			cp.Details = map[string]any{}
			for k, v := range ev.Details {
				switch k {
				case "input", "output", "parameters":
				default:
					cp.Details[k] = v
				}
			}
		}
		out[i] = &cp
	}
	return out
}

func (e *Engine) apiListExecutions(body []byte) (any, error) {
	in, err := decode[struct {
		StateMachineArn string
		StatusFilter    string
		MaxResults      int
		NextToken       string
	}](body)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	sm, known := e.machines[in.StateMachineArn]
	all := append([]*execution(nil), e.execOrder...)
	e.mu.Unlock()
	if !known {
		return nil, apiErrorf("StateMachineDoesNotExist", "state machine does not exist: %s", in.StateMachineArn)
	}
	if sm.typ == TypeExpress {
		return nil, apiErrorf("StateMachineTypeNotSupported", "ListExecutions does not list the executions of an EXPRESS state machine")
	}
	// AWS lists the newest first.
	var infos []map[string]any
	for i := len(all) - 1; i >= 0; i-- {
		info := all[i].info()
		if info.StateMachineArn != in.StateMachineArn || (in.StatusFilter != "" && info.Status != in.StatusFilter) {
			continue
		}
		infos = append(infos, executionJSON(info, false))
	}
	from, to, next, err := page(len(infos), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{"executions": append([]map[string]any{}, infos[from:to]...)}
	if next != "" {
		resp["nextToken"] = next
	}
	return resp, nil
}

func (e *Engine) apiStopExecution(body []byte) (any, error) {
	in, err := decode[struct{ ExecutionArn, Error, Cause string }](body)
	if err != nil {
		return nil, err
	}
	stop, err := e.StopExecution(in.ExecutionArn, in.Error, in.Cause)
	if err != nil {
		return nil, err
	}
	return map[string]any{"stopDate": epochSeconds(stop)}, nil
}

func (e *Engine) apiSendTaskSuccess(body []byte) (any, error) {
	in, err := decode[struct{ TaskToken, Output string }](body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, e.SendTaskSuccess(in.TaskToken, in.Output)
}

func (e *Engine) apiSendTaskFailure(body []byte) (any, error) {
	in, err := decode[struct{ TaskToken, Error, Cause string }](body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, e.SendTaskFailure(in.TaskToken, in.Error, in.Cause)
}

func (e *Engine) apiSendTaskHeartbeat(body []byte) (any, error) {
	in, err := decode[struct{ TaskToken string }](body)
	if err != nil {
		return nil, err
	}
	return struct{}{}, e.SendTaskHeartbeat(in.TaskToken)
}
