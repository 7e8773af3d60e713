package app_test

import (
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// clusterArn is the stand-in cluster's ARN (apptest.NewCluster names it
// wharf-main).
const realClusterArn = "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"

// managementRole resolves the api app's management role from the
// synthesized templates: the cluster stack's exports resolve the app
// stack's imports.
func managementRole(t *testing.T, tpl map[string]interface{}, roleName string) *iampolicy.Role {
	t.Helper()
	f := getFixture(t)
	r := iampolicy.Resolver{AccountID: "111122223333", Region: "eu-west-1", StackName: "wharf-cluster-main"}
	ct, err := iampolicy.NewTemplate(f.clusterJSON, r)
	if err != nil {
		t.Fatal(err)
	}
	r.Imports, _ = ct.Exports()
	// The database stack is not in the fixture: its exports (the cluster
	// resource ID of rds-db:connect ARNs) get stand-in values.
	for _, name := range importsOf(tpl, "wharf-database-") {
		if _, ok := r.Imports[name]; !ok {
			r.Imports[name] = "cluster-STANDIN0123456789"
		}
	}
	at, err := iampolicy.NewTemplate(tpl, r)
	if err != nil {
		t.Fatal(err)
	}
	role, err := at.Role(roleName)
	if err != nil {
		t.Fatal(err)
	}
	return role
}

// Issue 8, defect 2: the control plane stops a superseded or timed-out
// release task with StopTask(cluster, task) (controlplane/steps.go,
// adopt.go). ECS authorizes ecs:StopTask on the task (resource type task,
// condition keys ecs:cluster and aws:ResourceTag/${TagKey}, Service
// Authorization Reference for Amazon ECS); the release task carries the
// wharf:app tag of its task definition (RunTask PropagateTags
// TASK_DEFINITION).
func TestManagementRoleStopsOnlyOwnTasks(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-management")
	stop := func(task, cluster, appTag string) iampolicy.Request {
		ctx := iampolicy.Context{"ecs:cluster": {cluster}}
		if appTag != "" {
			ctx["aws:ResourceTag/wharf:app"] = []string{appTag}
		}
		return iampolicy.Request{Action: "ecs:StopTask", Resource: task, Context: ctx}
	}
	own := "arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/0123456789abcdef0123456789abcdef"
	d, err := iampolicy.Evaluate(stop(own, realClusterArn, "api"), role.Policies...)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allowed() {
		t.Errorf("the control plane cannot stop the app's own release task: %s", d)
	}
	for name, req := range map[string]iampolicy.Request{
		"another app's task":        stop(own, realClusterArn, "web"),
		"an untagged task":          stop(own, realClusterArn, ""),
		"a task in another cluster": stop("arn:aws:ecs:eu-west-1:111122223333:task/other/0123", "arn:aws:ecs:eu-west-1:111122223333:cluster/other", "api"),
	} {
		d, err := iampolicy.Evaluate(req, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed() {
			t.Errorf("%s: %s", name, d)
		}
	}
}

// importsOf lists the Fn::ImportValue names in v that start with prefix.
func importsOf(v interface{}, prefix string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]interface{}:
		if name, ok := x["Fn::ImportValue"].(string); ok && strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
		for _, e := range x {
			out = append(out, importsOf(e, prefix)...)
		}
	case []interface{}:
		for _, e := range x {
			out = append(out, importsOf(e, prefix)...)
		}
	}
	return out
}
