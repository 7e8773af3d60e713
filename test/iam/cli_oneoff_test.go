package iam

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// The calls of wharf run, exec, shell and db shell (cmd/wharf run.go,
// exec.go, dbshell.go), built from the SDK inputs those commands send,
// evaluated against the user role of every app of the multi-account
// layout, and the same calls aimed at every other app (its task
// definitions, roles and tasks), which must be denied. The CLI's own
// tests run the binary against a guard that maps its calls with this
// package's Mapper in the same way (cmd/wharf harness_oneoff_test.go).

// generatedRoleNames names every role of a template without a RoleName
// as CloudFormation would (<stack>-<logical ID>, at most 64 characters),
// so that two apps' roles of the same logical ID in one account differ,
// as they do in AWS (the default stand-in, the logical ID, would make
// them equal).
func generatedRoleNames(raw map[string]any, stack string) map[string]string {
	refs := map[string]string{}
	res, _ := raw["Resources"].(map[string]any)
	for id, r := range res {
		rm, _ := r.(map[string]any)
		props, _ := rm["Properties"].(map[string]any)
		if rm["Type"] == "AWS::IAM::Role" && props["RoleName"] == nil {
			name := stack + "-" + id
			refs[id] = name[:min(len(name), 64)]
		}
	}
	return refs
}

// appTaskRoles resolves, for every app of the layout, its user role and
// its execution and task role ARNs from its template (the App construct's
// ExecutionRole and TaskRole), keyed "<account>/<app>".
func appTaskRoles(t *testing.T) (map[string]*iampolicy.Role, map[string][2]string) {
	t.Helper()
	users := map[string]*iampolicy.Role{}
	out := map[string][2]string{}
	for _, s := range synthesize(t) {
		if s.kind != "app" {
			continue
		}
		tpl, err := iampolicy.NewTemplate(s.raw, iampolicy.Resolver{AccountID: s.acct, Region: region, StackName: s.name,
			Refs: generatedRoleNames(s.raw, s.name), Imports: clusterImports(t, s.acct)})
		if err != nil {
			t.Fatal(err)
		}
		u, err := tpl.Role(contract.Names{Prefix: "wharf"}.UserRole(s.app))
		if err != nil {
			t.Fatal(err)
		}
		users[s.acct+"/"+s.app] = u
		var exec, task string
		res, _ := s.raw["Resources"].(map[string]any)
		for id, r := range res {
			rm, _ := r.(map[string]any)
			if rm["Type"] != "AWS::IAM::Role" || (!strings.Contains(id, "ExecutionRole") && !strings.Contains(id, "TaskRole")) {
				continue
			}
			role, err := tpl.Role(id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.Contains(id, "ExecutionRole"):
				exec = role.ARN
			case strings.Contains(id, "TaskRole"):
				task = role.ARN
			}
		}
		if exec == "" || task == "" {
			t.Fatalf("%s in %s: no execution or task role", s.app, s.acct)
		}
		out[s.acct+"/"+s.app] = [2]string{exec, task}
	}
	return users, out
}

// oneOffCalls are the calls for a one-off task of app in acct: RunTask of
// the release family, DescribeTasks, StopTask, ListTasks of a service,
// ExecuteCommand, with a task of that app.
func oneOffCalls(app, acct string) []cliCall {
	n := contract.Names{Prefix: "wharf"}
	cluster := "arn:aws:ecs:" + region + ":" + acct + ":cluster/wharf-main"
	task := "arn:aws:ecs:" + region + ":" + acct + ":task/wharf-main/0123456789abcdef0123456789" + strings.Repeat("0", 6-len(app)) + app
	return []cliCall{
		{"run", "ecs", "RunTask", &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(n.ReleaseFamily(app)),
			LaunchType: ecstypes.LaunchTypeFargate, StartedBy: aws.String(contract.OneOffStartedBy(contract.OneOffRun, "alice@example.com")),
			EnableExecuteCommand: true, Tags: []ecstypes.Tag{{Key: aws.String(contract.TagApp), Value: aws.String(app)}},
			Overrides: &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String(contract.ContainerName), Command: []string{"true"}}}}}},
		{"run", "ecs", "DescribeTasks", &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{task}}},
		{"run (Ctrl-C)", "ecs", "StopTask", &ecs.StopTaskInput{Cluster: aws.String(cluster), Task: aws.String(task)}},
		{"exec", "ecs", "ListTasks", &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(n.Service(app, "web"))}},
		{"exec", "ecs", "ExecuteCommand", &ecs.ExecuteCommandInput{Cluster: aws.String(cluster), Task: aws.String(task),
			Container: aws.String(contract.ContainerName), Command: aws.String("/bin/sh"), Interactive: true}},
	}
}

func TestCLIOneOffCallsAreAllowed(t *testing.T) {
	users, roles := appTaskRoles(t)
	keys := make([]string, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The world: each app's task carries its wharf:app tag; each app's
	// release family its own two roles.
	mapper := func() *Mapper {
		m := NewMapper()
		m.TaskTags = func(acct, arn string) (map[string]string, bool) {
			for _, k := range keys {
				if a, app := k[:12], k[13:]; a == acct && strings.HasSuffix(arn, app) {
					return map[string]string{contract.TagApp: app}, true
				}
			}
			return nil, false
		}
		m.TaskDefRoles = func(acct, td string) ([]string, bool) {
			if app, _, ok := (contract.Names{Prefix: "wharf"}).ParseFamily(td); ok {
				r, ok := roles[acct+"/"+app]
				return r[:], ok
			}
			return nil, false
		}
		return m
	}
	requests := func(c cliCall, role, acct string) []Request {
		in, err := ToJSONMap(c.input)
		if err != nil {
			t.Fatal(err)
		}
		reqs, err := mapper().Requests(Call{Service: c.service, Op: c.op, Role: role, Account: acct, Region: region, Input: in})
		if err != nil {
			t.Fatalf("%s: %v", c.command, err)
		}
		return reqs
	}
	if len(users) < 4 {
		t.Fatalf("resolved %d user roles; the layout has 4 apps", len(users))
	}
	for _, key := range keys {
		r := users[key]
		acct, appName := key[:12], key[13:]
		for _, c := range oneOffCalls(appName, acct) {
			if ok, why := allowed(t, r, requests(c, r.ARN, acct)); !ok {
				t.Errorf("%s in %s: wharf %s: %s:%s denied: %s", appName, acct, c.command, c.service, c.op, why)
			}
		}
		for _, other := range keys {
			if other == key {
				continue
			}
			oAcct, oApp := other[:12], other[13:]
			for _, c := range oneOffCalls(oApp, oAcct) {
				if c.op == "ListTasks" {
					continue // no resource: limited to the cluster, names only
				}
				if ok, _ := allowed(t, r, requests(c, r.ARN, oAcct)); ok {
					t.Errorf("%s's user role in %s may %s:%s for %s in %s (wharf %s)", appName, acct, c.service, c.op, oApp, oAcct, c.command)
				}
			}
			// The own release family with the other app's task role.
			if oAcct == acct {
				own := oneOffCalls(appName, acct)[0]
				in := *own.input.(*ecs.RunTaskInput)
				in.Overrides = &ecstypes.TaskOverride{TaskRoleArn: aws.String(roles[other][1])}
				if ok, _ := allowed(t, r, requests(cliCall{"hostile", "ecs", "RunTask", &in}, r.ARN, acct)); ok {
					t.Errorf("%s's user role may pass %s's task role", appName, oApp)
				}
			}
		}
	}
}
