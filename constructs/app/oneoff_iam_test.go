package app_test

import (
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// A hostile tenant: a user allowed on the api app (or whoever holds their
// credentials) uses the one-off task permissions of wharf run, exec and
// shell against the web app in the same cluster: run its task
// definitions, pass its roles, tag a task as web's, stop or exec into its
// tasks. The synthesized user role allows the api app's own requests and
// refuses every one of those (ECS authorization as the Service
// Authorization Reference for Amazon ECS gives it: RunTask on the task
// definition with ecs:cluster, iam:PassRole for the task definition's
// roles, ecs:TagResource with ecs:CreateAction on creation, StopTask and
// ExecuteCommand on the task with aws:ResourceTag).
func TestUserRoleOneOffTasksOnlyOwn(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-user")
	const (
		acct      = "arn:aws:ecs:eu-west-1:111122223333:"
		otherCl   = acct + "cluster/other"
		apiTask   = acct + "task/wharf-main/0123456789abcdef0123456789abcdef"
		apiExec   = "arn:aws:iam::111122223333:role/" + execRole
		apiTaskR  = "arn:aws:iam::111122223333:role/" + task
		webTaskR  = "arn:aws:iam::111122223333:role/wharf-app-web-AppTaskRole1234ABCD"
		ecsTasks  = "ecs-tasks.amazonaws.com"
		releaseTD = acct + "task-definition/wharf-api_release:7"
	)
	cluster := func(c string) iampolicy.Context { return iampolicy.Context{"ecs:cluster": {c}} }
	runTask := func(td, c string) iampolicy.Request {
		return iampolicy.Request{Action: "ecs:RunTask", Resource: td, Context: cluster(c)}
	}
	pass := func(r, service string) iampolicy.Request {
		return iampolicy.Request{Action: "iam:PassRole", Resource: r, Context: iampolicy.Context{"iam:PassedToService": {service}}}
	}
	tag := func(action string, tags map[string]string) iampolicy.Request {
		ctx := cluster(realClusterArn)
		if action != "" {
			ctx["ecs:CreateAction"] = []string{action}
		}
		var keys []string
		for k, v := range tags {
			ctx["aws:RequestTag/"+k] = []string{v}
			keys = append(keys, k)
		}
		ctx["aws:TagKeys"] = keys
		return iampolicy.Request{Action: "ecs:TagResource", Resource: apiTask, Context: ctx}
	}
	onTask := func(action, c, app string) iampolicy.Request {
		ctx := cluster(c)
		if app != "" {
			ctx["aws:ResourceTag/wharf:app"] = []string{app}
		}
		res := apiTask
		if c == otherCl {
			res = acct + "task/other/0123456789abcdef0123456789abcdef"
		}
		return iampolicy.Request{Action: action, Resource: res, Context: ctx}
	}
	eval := func(req iampolicy.Request) iampolicy.Decision {
		t.Helper()
		d, err := iampolicy.Evaluate(req, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// What the CLI sends for the app's own one-off task.
	for name, req := range map[string]iampolicy.Request{
		"run the release family":      runTask(acct+"task-definition/wharf-api_release", realClusterArn),
		"run a revision":              runTask(releaseTD, realClusterArn),
		"pass the execution role":     pass(apiExec, ecsTasks),
		"pass the task role":          pass(apiTaskR, ecsTasks),
		"tag the new task as the app": tag("RunTask", map[string]string{"wharf:app": "api"}),
		"stop an own task":            onTask("ecs:StopTask", realClusterArn, "api"),
		"exec into an own task":       onTask("ecs:ExecuteCommand", realClusterArn, "api"),
	} {
		if d := eval(req); !d.Allowed() {
			t.Errorf("%s is refused: %s", name, d)
		}
	}
	// The hostile tenant's attempts.
	for name, req := range map[string]iampolicy.Request{
		"run web's task definition":                    runTask(acct+"task-definition/wharf-web_release:3", realClusterArn),
		"run a task definition of another prefix":      runTask(acct+"task-definition/other-api_release:1", realClusterArn),
		"run api's task definition in another cluster": runTask(releaseTD, otherCl),
		"pass web's task role":                         pass(webTaskR, ecsTasks),
		"pass api's task role to Lambda":               pass(apiTaskR, "lambda.amazonaws.com"),
		"tag the new task as web's":                    tag("RunTask", map[string]string{"wharf:app": "web"}),
		"tag with another key too":                     tag("RunTask", map[string]string{"wharf:app": "api", "owner": "mallory"}),
		"tag an existing task":                         tag("", map[string]string{"wharf:app": "api"}),
		"stop web's task":                              onTask("ecs:StopTask", realClusterArn, "web"),
		"stop an untagged task":                        onTask("ecs:StopTask", realClusterArn, ""),
		"stop a task in another cluster":               onTask("ecs:StopTask", otherCl, "api"),
		"exec into web's task":                         onTask("ecs:ExecuteCommand", realClusterArn, "web"),
		"exec into an untagged task":                   onTask("ecs:ExecuteCommand", realClusterArn, ""),
	} {
		if d := eval(req); d.Allowed() {
			t.Errorf("%s is allowed: %s", name, d)
		}
	}
}

// wharf db shell signs an IAM auth token with the user role: as the app's
// own database user only, never as another app's or the admin.
func TestUserRoleConnectsOnlyAsOwnDatabaseUser(t *testing.T) {
	f := getFixture(t)
	role := managementRole(t, f.apiJSON, "wharf-app-api-user")
	var own string
	for _, p := range role.Policies {
		for _, st := range p.Statements {
			if st.Sid == "ConnectToOwnDatabaseFromOneOffTasks" && len(st.Resource) == 1 {
				own = st.Resource[0]
			}
		}
	}
	if own == "" || !strings.HasSuffix(own, "/api") {
		t.Fatalf("no resolved rds-db:connect resource for the api user: %q", own)
	}
	base := strings.TrimSuffix(own, "/api")
	for user, want := range map[string]bool{"api": true, "web": false, "wharf_admin": false, "*": false} {
		d, err := iampolicy.Evaluate(iampolicy.Request{Action: "rds-db:connect", Resource: base + "/" + user}, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed() != want {
			t.Errorf("rds-db:connect as %s: allowed %v, want %v (%s)", user, d.Allowed(), want, d)
		}
	}
}
