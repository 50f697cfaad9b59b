package cfn

import (
	"fmt"
	"strings"
)

// Schedule is a scheduled invocation of a function: an EventBridge Scheduler schedule
// (SAM's ScheduleV2 event) or an EventBridge rule with a schedule expression (SAM's
// Schedule event), resolved.
type Schedule struct {
	LogicalID  string
	ARN        string
	Expression string
	// FunctionARN is the target's ARN.
	FunctionARN string
	// Role, for a Scheduler schedule, is the logical ID of the role it invokes the
	// function as (Target.RoleArn); a rule has none.
	Role string
	// Permitted, for a rule, says whether an AWS::Lambda::Permission lets
	// events.amazonaws.com invoke the function from this rule (Lambda's resource
	// policy); a Scheduler schedule is authorised by its role instead.
	Permitted bool
	// Input is the target's Input, "" when it sets none.
	Input string
}

// Schedules lists the scheduled invocations of functions, sorted by logical ID.
func (t *Template) Schedules() ([]Schedule, error) {
	var out []Schedule
	ids, err := t.created("AWS::Scheduler::Schedule")
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		s := Schedule{LogicalID: id}
		if s.ARN, err = t.ref(id); err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		if s.Expression, err = t.propString(id, "ScheduleExpression"); err != nil {
			return nil, err
		}
		target, _ := t.prop(id, "Target").(map[string]any)
		if s.FunctionARN, err = t.r.String(target["Arn"]); err != nil {
			return nil, fmt.Errorf("cfn: %s target: %w", id, err)
		}
		if s.Role, err = roleOf(target["RoleArn"]); err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		if target["Input"] != nil {
			if s.Input, err = t.r.String(target["Input"]); err != nil {
				return nil, fmt.Errorf("cfn: %s input: %w", id, err)
			}
		}
		out = append(out, s)
	}
	rules, err := t.created("AWS::Events::Rule")
	if err != nil {
		return nil, err
	}
	for _, id := range rules {
		expr, err := t.propString(id, "ScheduleExpression")
		if err != nil {
			return nil, err
		}
		if expr == "" {
			continue // an event pattern, not a schedule
		}
		arn, err := t.getAtt(id, "Arn")
		if err != nil {
			return nil, fmt.Errorf("cfn: %s: %w", id, err)
		}
		targets, _ := t.prop(id, "Targets").([]any)
		for _, tv := range targets {
			target, _ := tv.(map[string]any)
			s := Schedule{LogicalID: id, ARN: arn.(string), Expression: expr}
			if s.FunctionARN, err = t.r.String(target["Arn"]); err != nil {
				return nil, fmt.Errorf("cfn: %s target: %w", id, err)
			}
			if !strings.Contains(s.FunctionARN, ":function:") {
				continue
			}
			if target["Input"] != nil {
				if s.Input, err = t.r.String(target["Input"]); err != nil {
					return nil, fmt.Errorf("cfn: %s input: %w", id, err)
				}
			}
			if s.Permitted, err = t.eventsMayInvoke(s.FunctionARN, s.ARN); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// eventsMayInvoke looks for a Lambda permission letting EventBridge invoke the function
// from the rule.
func (t *Template) eventsMayInvoke(functionARN, ruleARN string) (bool, error) {
	for _, id := range t.LogicalIDs("AWS::Lambda::Permission") {
		principal, err := t.propString(id, "Principal")
		if err != nil {
			return false, err
		}
		action, err := t.propString(id, "Action")
		if err != nil {
			return false, err
		}
		fn, err := t.propString(id, "FunctionName")
		if err != nil {
			return false, err
		}
		source, err := t.propString(id, "SourceArn")
		if err != nil {
			return false, err
		}
		name := functionARN[strings.LastIndex(functionARN, ":")+1:]
		if principal == "events.amazonaws.com" && action == "lambda:InvokeFunction" &&
			(fn == functionARN || fn == name) && (source == "" || source == ruleARN) {
			return true, nil
		}
	}
	return false, nil
}
