package awsmodel

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func vcode(err error) string {
	if v, ok := AsViolation(err); ok {
		return v.Code
	}
	if err != nil {
		return "other"
	}
	return ""
}

func TestOtherServicesRules(t *testing.T) {
	target := func(id string) ebtypes.Target {
		return ebtypes.Target{Id: aws.String(id), Arn: aws.String("arn:cluster"), EcsParameters: &ebtypes.EcsParameters{
			TaskDefinitionArn: aws.String("td"), LaunchType: ebtypes.LaunchTypeFargate,
			NetworkConfiguration: &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{Subnets: []string{"s"}}}}}
	}
	noNet := target("t")
	noNet.EcsParameters.NetworkConfiguration = nil
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"BatchGetBuilds 100", ValidateBatchGetBuilds(&codebuild.BatchGetBuildsInput{Ids: make([]string, 100)}), "InvalidInputException"}, // empty IDs
		{"BatchGetBuilds 101", ValidateBatchGetBuilds(&codebuild.BatchGetBuildsInput{Ids: strings.Split(strings.Repeat("a,", 100)+"a", ",")}), "InvalidInputException"},
		{"BatchGetBuilds 1", ValidateBatchGetBuilds(&codebuild.BatchGetBuildsInput{Ids: []string{"p:1"}}), ""},
		{"ListBuilds sorted, 101 builds", ValidateListBuildsForProject(&codebuild.ListBuildsForProjectInput{ProjectName: aws.String("p"), SortOrder: "ASCENDING"}, 101), "InvalidInputException"},
		{"ListBuilds sorted, 100 builds", ValidateListBuildsForProject(&codebuild.ListBuildsForProjectInput{ProjectName: aws.String("p"), SortOrder: "ASCENDING"}, 100), ""},
		{"GetParameter 2049", ValidateGetParameter(&ssm.GetParameterInput{Name: aws.String(strings.Repeat("p", 2049))}), "ValidationException"},
		{"DescribeParameters 51", ValidateDescribeParameters(&ssm.DescribeParametersInput{MaxResults: aws.Int32(51)}), "ValidationException"},
		{"DescribeParameters both filters", ValidateDescribeParameters(&ssm.DescribeParametersInput{
			Filters:          []ssmtypes.ParametersFilter{{Key: ssmtypes.ParametersFilterKeyName, Values: []string{"a"}}},
			ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Path"), Values: []string{"/a"}}}}), "InvalidFilterKey"},
		{"PutRule 65-char name", ValidatePutRule(&eventbridge.PutRuleInput{Name: aws.String(strings.Repeat("r", 65)), ScheduleExpression: aws.String("rate(1 day)")}), "ValidationException"},
		{"PutRule no schedule", ValidatePutRule(&eventbridge.PutRuleInput{Name: aws.String("r")}), "ValidationException"},
		{"PutRule ok", ValidatePutRule(&eventbridge.PutRuleInput{Name: aws.String("wharf-api_schedule-nightly"), ScheduleExpression: aws.String("cron(0 3 * * ? *)")}), ""},
		{"PutTargets sixth target", ValidatePutTargets(&eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []ebtypes.Target{target("t")}}, 5), "LimitExceededException"},
		{"PutTargets Fargate without network", ValidatePutTargets(&eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []ebtypes.Target{noNet}}, 0), "ValidationException"},
		{"PutTargets ok", ValidatePutTargets(&eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []ebtypes.Target{target("t")}}, 0), ""},
		{"RemoveTargets none", ValidateRemoveTargets(&eventbridge.RemoveTargetsInput{Rule: aws.String("r")}), "ValidationException"},
		{"DeleteRule with targets", ValidateDeleteRule(&eventbridge.DeleteRuleInput{Name: aws.String("r")}, 1), "ValidationException"},
		{"ListRules limit 101", ValidateListLimit(aws.Int32(101)), "ValidationException"},
		{"GetObject long key", ValidateGetObject(&s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String(strings.Repeat("k", 1025))}), "KeyTooLongError"},
		{"GetObject no key", ValidateGetObject(&s3.GetObjectInput{Bucket: aws.String("b")}), "InvalidRequest"},
	}
	for _, c := range cases {
		if got := vcode(c.err); got != c.want {
			t.Errorf("%s: got %q, want %q (%v)", c.name, got, c.want, c.err)
		}
	}
}
