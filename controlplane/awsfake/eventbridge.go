package awsfake

import (
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"

	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

const eventBridgeTargetPrefix = "AWSEvents."

// ServiceEventBridge is the EventBridge service name used in Call.Service.
const ServiceEventBridge = "events"

var ruleNameRE = regexp.MustCompile(`^[\.\-_A-Za-z0-9]{1,64}$`)

type ruleRecord struct {
	rule    ebtypes.Rule
	targets []ebtypes.Target
}

// eventBridgeState holds the rules of the default event bus.
type eventBridgeState struct {
	rules map[string]*ruleRecord
	order []string
}

func (e *eventBridgeState) init() {
	e.rules = map[string]*ruleRecord{}
}

func newEventBridgeInput(op string) any {
	switch op {
	case "PutRule":
		return &eventbridge.PutRuleInput{}
	case "ListRules":
		return &eventbridge.ListRulesInput{}
	case "DescribeRule":
		return &eventbridge.DescribeRuleInput{}
	case "DeleteRule":
		return &eventbridge.DeleteRuleInput{}
	case "PutTargets":
		return &eventbridge.PutTargetsInput{}
	case "ListTargetsByRule":
		return &eventbridge.ListTargetsByRuleInput{}
	case "RemoveTargets":
		return &eventbridge.RemoveTargetsInput{}
	}
	return nil
}

func ebError(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg}
}

func ruleNotFound(name string) *APIError {
	return ebError(http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Rule %s does not exist on EventBus default.", name))
}

func checkBus(bus *string) *APIError {
	if b := aws.ToString(bus); b != "" && b != "default" && !strings.HasSuffix(b, ":event-bus/default") {
		return ebError(http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Event bus %s does not exist.", b))
	}
	return nil
}

// serveEventBridge runs one EventBridge operation on the default bus.
// Callers hold s.mu.
func (s *Server) serveEventBridge(op string, in any) ([]byte, *APIError) {
	var (
		out any
		e   *APIError
	)
	eb := &s.eb
	if err := ebRules(in); err != nil {
		return nil, err
	}
	switch v := in.(type) {
	case *eventbridge.PutRuleInput:
		if e = checkBus(v.EventBusName); e != nil {
			return nil, e
		}
		name := aws.ToString(v.Name)
		if !ruleNameRE.MatchString(name) {
			return nil, ebError(http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name))
		}
		if v.ScheduleExpression == nil && v.EventPattern == nil {
			return nil, ebError(http.StatusBadRequest, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
		}
		if se := aws.ToString(v.ScheduleExpression); se != "" && !strings.HasPrefix(se, "cron(") && !strings.HasPrefix(se, "rate(") {
			return nil, ebError(http.StatusBadRequest, "ValidationException", "Parameter ScheduleExpression is not valid.")
		}
		state := v.State
		if state == "" {
			state = ebtypes.RuleStateEnabled
		}
		arn := fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", s.region, s.account, name)
		rec, ok := eb.rules[name]
		if !ok {
			rec = &ruleRecord{}
			eb.rules[name] = rec
			eb.order = append(eb.order, name)
		}
		rec.rule = ebtypes.Rule{
			Name: aws.String(name), Arn: aws.String(arn), ScheduleExpression: v.ScheduleExpression, EventPattern: v.EventPattern,
			State: state, Description: v.Description, RoleArn: v.RoleArn, EventBusName: aws.String("default"),
		}
		out = &eventbridge.PutRuleOutput{RuleArn: aws.String(arn)}
	case *eventbridge.ListRulesInput:
		if e = checkBus(v.EventBusName); e != nil {
			return nil, e
		}
		var names []string
		for _, n := range eb.order {
			if strings.HasPrefix(n, aws.ToString(v.NamePrefix)) {
				names = append(names, n)
			}
		}
		page, next, pe := paginate(names, v.NextToken, v.Limit)
		if pe != nil {
			return nil, ebError(http.StatusBadRequest, "ValidationException", pe.Message)
		}
		o := &eventbridge.ListRulesOutput{Rules: []ebtypes.Rule{}, NextToken: next}
		for _, n := range page {
			o.Rules = append(o.Rules, eb.rules[n].rule)
		}
		out = o
	case *eventbridge.DescribeRuleInput:
		rec, ok := eb.rules[aws.ToString(v.Name)]
		if !ok {
			return nil, ruleNotFound(aws.ToString(v.Name))
		}
		r := rec.rule
		out = &eventbridge.DescribeRuleOutput{Name: r.Name, Arn: r.Arn, ScheduleExpression: r.ScheduleExpression, EventPattern: r.EventPattern,
			State: r.State, Description: r.Description, RoleArn: r.RoleArn, EventBusName: r.EventBusName}
	case *eventbridge.DeleteRuleInput:
		name := aws.ToString(v.Name)
		if rec, ok := eb.rules[name]; ok {
			if len(rec.targets) > 0 && !v.Force {
				return nil, ebError(http.StatusBadRequest, "ValidationException", "Rule can't be deleted since it has targets.")
			}
			delete(eb.rules, name)
			for i, n := range eb.order {
				if n == name {
					eb.order = append(eb.order[:i], eb.order[i+1:]...)
					break
				}
			}
		}
		out = &eventbridge.DeleteRuleOutput{}
	case *eventbridge.PutTargetsInput:
		name := aws.ToString(v.Rule)
		rec, ok := eb.rules[name]
		if !ok {
			return nil, ruleNotFound(name)
		}
		if len(v.Targets) == 0 || len(v.Targets) > 10 {
			return nil, ebError(http.StatusBadRequest, "ValidationException", "Targets must contain between 1 and 10 items.")
		}
		for _, t := range v.Targets {
			if aws.ToString(t.Id) == "" || aws.ToString(t.Arn) == "" {
				return nil, ebError(http.StatusBadRequest, "ValidationException", "Target Id and Arn are required.")
			}
			if t.EcsParameters != nil && aws.ToString(t.RoleArn) == "" {
				return nil, ebError(http.StatusBadRequest, "ValidationException", "RoleArn is required for target "+aws.ToString(t.Id)+".")
			}
			replaced := false
			for i := range rec.targets {
				if aws.ToString(rec.targets[i].Id) == *t.Id {
					rec.targets[i], replaced = t, true
				}
			}
			if !replaced {
				if len(rec.targets) >= 5 {
					return nil, ebError(http.StatusBadRequest, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")
				}
				rec.targets = append(rec.targets, t)
			}
		}
		out = &eventbridge.PutTargetsOutput{FailedEntryCount: 0, FailedEntries: []ebtypes.PutTargetsResultEntry{}}
	case *eventbridge.ListTargetsByRuleInput:
		rec, ok := eb.rules[aws.ToString(v.Rule)]
		if !ok {
			return nil, ruleNotFound(aws.ToString(v.Rule))
		}
		out = &eventbridge.ListTargetsByRuleOutput{Targets: append([]ebtypes.Target{}, rec.targets...)}
	case *eventbridge.RemoveTargetsInput:
		rec, ok := eb.rules[aws.ToString(v.Rule)]
		if !ok {
			return nil, ruleNotFound(aws.ToString(v.Rule))
		}
		kept := rec.targets[:0]
		for _, t := range rec.targets {
			drop := false
			for _, id := range v.Ids {
				if aws.ToString(t.Id) == id {
					drop = true
				}
			}
			if !drop {
				kept = append(kept, t)
			}
		}
		rec.targets = kept
		out = &eventbridge.RemoveTargetsOutput{FailedEntryCount: 0, FailedEntries: []ebtypes.RemoveTargetsResultEntry{}}
	default:
		return nil, serverFault("UnknownOperationException", "operation "+op+" is not served")
	}
	b, err := encodeAWSJSON(out, eventBridgeMember)
	if err != nil {
		return nil, serverFault("InternalException", err.Error())
	}
	return b, nil
}

// Rules returns copies of the default bus's rules, in creation order.
func (s *Server) Rules() []ebtypes.Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ebtypes.Rule
	for _, n := range s.eb.order {
		out = append(out, s.eb.rules[n].rule)
	}
	return out
}

// Targets returns copies of a rule's targets (nil when the rule does not
// exist).
func (s *Server) Targets(rule string) []ebtypes.Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.eb.rules[rule]
	if !ok {
		return nil
	}
	return append([]ebtypes.Target(nil), rec.targets...)
}

// paginate cuts one page of an EventBridge listing: Limit "The maximum
// number of results to return." (1-100), NextToken as handed out before.
func paginate(all []string, token *string, max *int32) ([]string, *string, *APIError) {
	start := 0
	if token != nil {
		n, err := strconv.Atoi(*token)
		if err != nil || n < 0 || n > len(all) {
			return nil, nil, apiErr(InvalidParameterError("Invalid nextToken."))
		}
		start = n
	}
	size := 100
	if max != nil {
		if *max < 1 || *max > 100 {
			return nil, nil, apiErr(InvalidParameterError("Limit must be between 1 and 100."))
		}
		size = int(*max)
	}
	end := min(start+size, len(all))
	page := append([]string{}, all[start:end]...)
	if end < len(all) {
		return page, aws.String(strconv.Itoa(end)), nil
	}
	return page, nil, nil
}

// ebRules applies the shared model's stateless EventBridge request rules
// (controlplane/internal/awsmodel); the per-rule target limit and the
// delete-with-targets rule need the rule's state and are checked below.
func ebRules(in any) *APIError {
	var err error
	switch v := in.(type) {
	case *eventbridge.PutRuleInput:
		err = awsmodel.ValidatePutRule(v)
	case *eventbridge.PutTargetsInput:
		err = awsmodel.ValidatePutTargets(v, -1)
	case *eventbridge.RemoveTargetsInput:
		err = awsmodel.ValidateRemoveTargets(v)
	case *eventbridge.DeleteRuleInput:
		err = awsmodel.ValidateDeleteRule(v, 0)
	case *eventbridge.ListRulesInput:
		err = awsmodel.ValidateListLimit(v.Limit)
	case *eventbridge.ListTargetsByRuleInput:
		err = awsmodel.ValidateListLimit(v.Limit)
	}
	if v, ok := awsmodel.AsViolation(err); ok {
		return ebError(http.StatusBadRequest, v.Code, v.Message)
	}
	return nil
}
