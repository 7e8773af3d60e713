package awsmodel

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// The rules below are the documented request rules of the CodeBuild, SSM,
// EventBridge and S3 operations the control plane calls, quoted from each
// API reference (request parameters, "Length Constraints" and "Array
// Members" lines). They return a *Violation carrying the error code the
// service answers with; each host wraps it in its own error type.

// Violation is a request that breaks a documented rule: Code is the
// service's error code (InvalidInputException, ValidationException...).
type Violation struct {
	Code    string
	Message string
}

func (v *Violation) Error() string { return v.Code + ": " + v.Message }

func violation(code, format string, args ...any) error {
	return &Violation{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsViolation returns the rule violation inside err, if any.
func AsViolation(err error) (*Violation, bool) {
	var v *Violation
	ok := errors.As(err, &v)
	return v, ok
}

// ValidateBatchGetBuilds: CodeBuild BatchGetBuilds ids "Array Members:
// Minimum number of 1 item. Maximum number of 100 items." ("This member is
// required.")
func ValidateBatchGetBuilds(in *codebuild.BatchGetBuildsInput) error {
	if len(in.Ids) == 0 || len(in.Ids) > 100 {
		return violation("InvalidInputException", "ids must contain between 1 and 100 items, got %d", len(in.Ids))
	}
	for _, id := range in.Ids {
		if id == "" {
			return violation("InvalidInputException", "a build ID is empty (Length Constraints: Minimum length of 1)")
		}
	}
	return nil
}

// ValidateListBuildsForProject: projectName "This member is required."
// ("Length Constraints: Minimum length of 1."); sortOrder "Valid values
// include: ASCENDING ... DESCENDING"; "If the project has more than 100
// builds, setting the sort order will result in an error." (builds is the
// project's build count, which only the host knows; -1 skips that rule).
func ValidateListBuildsForProject(in *codebuild.ListBuildsForProjectInput, builds int) error {
	if deref(in.ProjectName) == "" {
		return violation("InvalidInputException", "projectName is required")
	}
	switch in.SortOrder {
	case "", "ASCENDING", "DESCENDING":
	default:
		return violation("InvalidInputException", "sortOrder must be ASCENDING or DESCENDING")
	}
	if in.SortOrder != "" && builds > 100 {
		return violation("InvalidInputException", "sortOrder cannot be set for a project with more than 100 builds")
	}
	return nil
}

// ValidateGetParameter: SSM GetParameter name "This member is required."
// ("Length Constraints: Minimum length of 1. Maximum length of 2048.").
func ValidateGetParameter(in *ssm.GetParameterInput) error {
	if n := len(deref(in.Name)); n == 0 || n > 2048 {
		return violation("ValidationException", "Name must be 1 to 2048 characters, got %d", n)
	}
	return nil
}

// ValidateDescribeParameters: SSM DescribeParameters MaxResults "Valid
// Range: Minimum value of 1. Maximum value of 50." Filters: "This data type
// is deprecated. Instead, use ParameterFilters." The model refuses the two
// together (stricter than SSM, whose reference leaves the combination
// undefined).
func ValidateDescribeParameters(in *ssm.DescribeParametersInput) error {
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 50) {
		return violation("ValidationException", "MaxResults must be between 1 and 50")
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return violation("InvalidFilterKey", "Filters (deprecated) and ParameterFilters cannot be combined")
	}
	return nil
}

// ruleNameRe: EventBridge rule names and target IDs: "Length Constraints:
// Minimum length of 1. Maximum length of 64. Pattern: [\.\-_A-Za-z0-9]+".
var ruleNameRe = regexp.MustCompile(`^[\.\-_A-Za-z0-9]{1,64}$`)

// ValidatePutRule: Name as above; "Description ... Length Constraints:
// Maximum length of 512."; ScheduleExpression "Length Constraints: Maximum
// length of 256."; a rule needs a schedule expression or an event pattern.
func ValidatePutRule(in *eventbridge.PutRuleInput) error {
	switch {
	case !ruleNameRe.MatchString(deref(in.Name)):
		return violation("ValidationException", "rule name %q must match [\\.\\-_A-Za-z0-9]{1,64}", deref(in.Name))
	case len(deref(in.Description)) > 512:
		return violation("ValidationException", "Description must be at most 512 characters")
	case len(deref(in.ScheduleExpression)) > 256:
		return violation("ValidationException", "ScheduleExpression must be at most 256 characters")
	case in.ScheduleExpression == nil && in.EventPattern == nil:
		return violation("ValidationException", "Parameter(s) ScheduleExpression or EventPattern must be specified.")
	}
	return nil
}

// ValidatePutTargets: Targets "Array Members: Minimum number of 1 item.
// Maximum number of 10 items."; Target.Id as rule names; "Each rule can
// have up to five (5) targets associated with it at one time." (existing
// is how many targets the rule has that this request does not replace;
// -1 skips that rule). EcsParameters.NetworkConfiguration: "This structure
// is required if LaunchType is FARGATE because the awsvpc mode is required
// for Fargate tasks."; TaskCount: "The default is 1." (the model refuses
// less than 1).
func ValidatePutTargets(in *eventbridge.PutTargetsInput, existing int) error {
	if len(in.Targets) == 0 || len(in.Targets) > 10 {
		return violation("ValidationException", "Targets must contain between 1 and 10 items, got %d", len(in.Targets))
	}
	if existing >= 0 && existing+len(in.Targets) > 5 {
		return violation("LimitExceededException", "a rule can have at most 5 targets")
	}
	for _, t := range in.Targets {
		if !ruleNameRe.MatchString(deref(t.Id)) || deref(t.Arn) == "" {
			return violation("ValidationException", "target Id must match [\\.\\-_A-Za-z0-9]{1,64} and Arn is required")
		}
		if e := t.EcsParameters; e != nil {
			if deref(e.TaskDefinitionArn) == "" {
				return violation("ValidationException", "EcsParameters.TaskDefinitionArn is required")
			}
			if e.LaunchType == ebtypes.LaunchTypeFargate && (e.NetworkConfiguration == nil || e.NetworkConfiguration.AwsvpcConfiguration == nil) {
				return violation("ValidationException", "EcsParameters.NetworkConfiguration is required with launch type FARGATE")
			}
			if e.TaskCount != nil && *e.TaskCount < 1 {
				return violation("ValidationException", "EcsParameters.TaskCount must be at least 1")
			}
		}
	}
	return nil
}

// ValidateRemoveTargets: Ids "Array Members: Minimum number of 1 item.
// Maximum number of 100 items."
func ValidateRemoveTargets(in *eventbridge.RemoveTargetsInput) error {
	if len(in.Ids) == 0 || len(in.Ids) > 100 {
		return violation("ValidationException", "Ids must contain between 1 and 100 items, got %d", len(in.Ids))
	}
	return nil
}

// ValidateDeleteRule: "Before you can delete the rule, you must remove all
// targets, using RemoveTargets." (targets is the rule's target count; the
// host answers ResourceNotFound itself).
func ValidateDeleteRule(in *eventbridge.DeleteRuleInput, targets int) error {
	if !ruleNameRe.MatchString(deref(in.Name)) {
		return violation("ValidationException", "rule name %q must match [\\.\\-_A-Za-z0-9]{1,64}", deref(in.Name))
	}
	if targets > 0 {
		return violation("ValidationException", "Rule can't be deleted since it has targets.")
	}
	return nil
}

// ValidateListLimit: ListRules and ListTargetsByRule Limit "Valid Range:
// Minimum value of 1. Maximum value of 100."
func ValidateListLimit(limit *int32) error {
	if limit != nil && (*limit < 1 || *limit > 100) {
		return violation("ValidationException", "Limit must be between 1 and 100")
	}
	return nil
}

// ValidateGetObject: S3 GetObject Bucket and Key "Required: Yes"; a key
// "is a sequence of Unicode characters whose UTF-8 encoding is at most
// 1,024 bytes long" (S3 user guide, object keys).
func ValidateGetObject(in *s3.GetObjectInput) error {
	if deref(in.Bucket) == "" || deref(in.Key) == "" {
		return violation("InvalidRequest", "Bucket and Key are required")
	}
	if len(deref(in.Key)) > 1024 {
		return violation("KeyTooLongError", "Your key is too long")
	}
	return nil
}
