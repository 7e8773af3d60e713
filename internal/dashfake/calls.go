package dashfake

import "fmt"

// IAMRequest is one AWS call the dashboard makes, as IAM authorizes it:
// the action, the resource ARN and the condition keys the service adds.
type IAMRequest struct {
	Page     string
	Action   string
	Resource string
	Context  map[string][]string
}

// BrowserRequests lists every AWS call the dashboard's pages make for one
// app (web/src/api.ts; the end-to-end test checks that the browser makes no
// other kind), so that a test can evaluate them against the synthesized
// user role. cluster is the ECS cluster name (<prefix>-<cluster>).
func BrowserRequests(prefix, app, account, region, cluster string) []IAMRequest {
	arn := func(service, rest string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, rest)
	}
	base := "/" + prefix + "/apps/" + app
	clusterARN := arn("ecs", "cluster/"+cluster)
	onCluster := map[string][]string{"ecs:cluster": {clusterARN}}
	service := arn("ecs", "service/"+cluster+"/"+prefix+"-"+app+"_web")
	task := arn("ecs", "task/"+cluster+"/0123456789abcdef0123456789abcdef")
	return []IAMRequest{
		{"apps, overview, logs, processes", "ssm:GetParameter", arn("ssm", "parameter"+base+"/status"), nil},
		{"overview", "logs:FilterLogEvents", arn("logs", "log-group:"+base+"/activity"), nil},
		{"overview, processes", "ecs:DescribeServices", service, onCluster},
		{"deploy", "codebuild:ListBuildsForProject", arn("codebuild", "project/"+prefix+"-"+app), nil},
		{"deploy", "codebuild:BatchGetBuilds", arn("codebuild", "project/"+prefix+"-"+app), nil},
		{"deploy", "logs:FilterLogEvents", arn("logs", "log-group:"+base+"/deploys"), nil},
		{"logs", "logs:FilterLogEvents", arn("logs", "log-group:"+base), nil},
		{"config", "ssm:GetParametersByPath", arn("ssm", "parameter"+base+"/config"), nil},
		{"config", "ssm:PutParameter", arn("ssm", "parameter"+base+"/config/FEATURE_CHECKOUT"), nil},
		{"config", "ssm:DeleteParameter", arn("ssm", "parameter"+base+"/config/FEATURE_CHECKOUT"), nil},
		{"processes", "ecs:ListTasks", "*", onCluster},
		// The app's tasks carry its wharf:app tag (propagated from the task
		// definition); IAM reads it as aws:ResourceTag/wharf:app.
		{"processes", "ecs:DescribeTasks", task, map[string][]string{"ecs:cluster": {clusterARN}, "aws:ResourceTag/wharf:app": {app}}},
	}
}

// BrowserOperations are the service operations of BrowserRequests, as the
// gateway names them (service "." operation).
var BrowserOperations = map[string]bool{
	"ssm.GetParameter": true, "ssm.GetParametersByPath": true, "ssm.PutParameter": true, "ssm.DeleteParameter": true,
	"logs.FilterLogEvents": true, "ecs.DescribeServices": true, "ecs.ListTasks": true, "ecs.DescribeTasks": true,
	"codebuild.ListBuildsForProject": true, "codebuild.BatchGetBuilds": true,
}
