package iam

import (
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// The wharf CLI's issue 11 commands (scale, restart, rollback, db, access)
// make their calls with an app's user role or the account's admin role.
// The CLI's own tests (cmd/wharf, e2e_runtime_test.go) run the binary
// against a guard that maps every call with this package's Mapper and
// evaluates it against the synthesized roles of the CLI's test platform.
// This test evaluates the same calls, built from the same SDK inputs the
// commands send, against the roles of this package's multi-account layout,
// and the hostile variants (another app's requests, the same app in
// another account, the app's own settings and status, other functions)
// which must be denied.

// cliRoles resolves the user role of every app of the layout and the
// admin role of every account.
func cliRoles(t *testing.T) (users map[string]*iampolicy.Role, admins map[string]*iampolicy.Role) {
	t.Helper()
	users, admins = map[string]*iampolicy.Role{}, map[string]*iampolicy.Role{}
	for _, s := range synthesize(t) {
		switch s.kind {
		case "account":
			tpl, err := iampolicy.NewTemplate(s.raw, iampolicy.Resolver{AccountID: s.acct, Region: region, StackName: s.name})
			if err != nil {
				t.Fatal(err)
			}
			r, err := tpl.Role(contract.Names{Prefix: "wharf"}.AdminRole())
			if err != nil {
				t.Fatal(err)
			}
			admins[s.acct] = r
		case "app":
			tpl, err := iampolicy.NewTemplate(s.raw, iampolicy.Resolver{AccountID: s.acct, Region: region, StackName: s.name,
				Refs: map[string]string{}, Imports: clusterImports(t, s.acct)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := tpl.Role(contract.Names{Prefix: "wharf"}.UserRole(s.app))
			if err != nil {
				t.Fatalf("user role of %s in %s: %v", s.app, s.acct, err)
			}
			users[s.acct+"/"+s.app] = r
		}
	}
	return users, admins
}

// clusterImports are the stand-in cluster's exports in acct.
func clusterImports(t *testing.T, acct string) map[string]string {
	t.Helper()
	for _, c := range synthesize(t) {
		if c.kind == "cluster" && c.acct == acct {
			tpl, err := iampolicy.NewTemplate(c.raw, iampolicy.Resolver{AccountID: c.acct, Region: region, StackName: c.name})
			if err != nil {
				t.Fatal(err)
			}
			ex, _ := tpl.Exports()
			return ex
		}
	}
	t.Fatalf("no cluster stack in %s", acct)
	return nil
}

// cliCall is one call of a CLI command: the service, the operation and
// the SDK input the command sends.
type cliCall struct {
	command, service, op string
	input                any
}

// userCalls are the calls scale, restart, rollback, db url and access make
// for app with its user role (cmd/wharf scale.go, restart.go, rollback.go,
// db.go, access.go).
func userCalls(app string) []cliCall {
	n := contract.Names{Prefix: "wharf"}
	return []cliCall{
		{"scale", "ssm", "GetParameter", &ssm.GetParameterInput{Name: aws.String(n.ScaleParameter(app))}},
		{"scale", "ssm", "GetParameter", &ssm.GetParameterInput{Name: aws.String(n.StatusParameter(app))}},
		{"scale", "ssm", "PutParameter", &ssm.PutParameterInput{Name: aws.String(n.ScaleParameter(app)), Value: aws.String("{}"), Type: "String", Overwrite: aws.Bool(true)}},
		{"scale --reset", "ssm", "DeleteParameter", &ssm.DeleteParameterInput{Name: aws.String(n.ScaleParameter(app))}},
		{"restart", "ssm", "PutParameter", &ssm.PutParameterInput{Name: aws.String(n.RestartParameter(app)), Value: aws.String("{}"), Type: "String", Overwrite: aws.Bool(true)}},
		{"rollback", "logs", "FilterLogEvents", &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(n.ActivityLogGroup(app)), LogStreamNamePrefix: aws.String("build-")}},
		{"rollback", "ssm", "PutParameter", &ssm.PutParameterInput{Name: aws.String(n.RollbackParameter(app)), Value: aws.String("{}"), Type: "String", Overwrite: aws.Bool(true)}},
		{"db url", "ssm", "GetParameter", &ssm.GetParameterInput{Name: aws.String(n.ConfigParameter(app, "DATABASE_URL")), WithDecryption: aws.Bool(true)}},
		{"access", "iam", "GetRole", &awsiam.GetRoleInput{RoleName: aws.String(n.UserRole(app))}},
	}
}

func (c cliCall) requests(t *testing.T, role, acct string) []Request {
	t.Helper()
	in, err := ToJSONMap(c.input)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := NewMapper().Requests(Call{Service: c.service, Op: c.op, Role: role, Account: acct, Region: region, Input: in})
	if err != nil {
		t.Fatalf("%s: %v", c.command, err)
	}
	return reqs
}

func allowed(t *testing.T, r *iampolicy.Role, reqs []Request) (bool, string) {
	t.Helper()
	for _, req := range reqs {
		d, err := iampolicy.Evaluate(req.Request, r.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed() {
			return false, fmt.Sprintf("%s %s: %s", req.Action, req.Resource, d)
		}
	}
	return true, ""
}

func TestCLICallsAreAllowed(t *testing.T) {
	users, admins := cliRoles(t)
	keys := make([]string, 0, len(users))
	for k := range users {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		r := users[key]
		acct, appName := key[:12], key[13:]
		for _, c := range userCalls(appName) {
			if ok, why := allowed(t, r, c.requests(t, r.ARN, acct)); !ok {
				t.Errorf("%s in %s: wharf %s: %s:%s denied: %s", appName, acct, c.command, c.service, c.op, why)
			}
		}
		// Hostile: the same calls for every other app of the layout, in
		// its account (shop exists in both: the same name in another
		// account is another app).
		for _, other := range keys {
			if other == key {
				continue
			}
			oAcct, oApp := other[:12], other[13:]
			for _, c := range userCalls(oApp) {
				reqs := c.requests(t, r.ARN, oAcct)
				if ok, _ := allowed(t, r, reqs); ok {
					t.Errorf("%s's user role in %s may %s:%s for %s in %s (wharf %s)", appName, acct, c.service, c.op, oApp, oAcct, c.command)
				}
			}
		}
		n := contract.Names{Prefix: "wharf"}
		for _, name := range []string{n.SettingsParameter(appName), n.StatusParameter(appName), n.AppParameterPath(appName) + "scale-2", n.AdministratorsParameter()} {
			for _, op := range []string{"PutParameter", "DeleteParameter"} {
				c := cliCall{"hostile", "ssm", op, map[string]any{"Name": name}}
				if ok, _ := allowed(t, r, c.requests(t, r.ARN, acct)); ok {
					t.Errorf("%s's user role may ssm:%s %s", appName, op, name)
				}
			}
		}
	}
	for acct, r := range admins {
		invoke := cliCall{"db create", "lambda", "Invoke", &lambda.InvokeInput{FunctionName: aws.String(contract.Names{Prefix: "wharf"}.DatabaseManagerFunction("main"))}}
		if ok, why := allowed(t, r, invoke.requests(t, r.ARN, acct)); !ok {
			t.Errorf("admin in %s: wharf db create: %s", acct, why)
		}
		for _, fn := range []string{"wharf-controlplane", "wharf-database-main-managerx", "other-database-main-manager"} {
			c := cliCall{"hostile", "lambda", "Invoke", &lambda.InvokeInput{FunctionName: aws.String(fn)}}
			if ok, _ := allowed(t, r, c.requests(t, r.ARN, acct)); ok {
				t.Errorf("admin in %s may invoke %s", acct, fn)
			}
		}
	}
	if len(users) < 4 || len(admins) != 2 {
		t.Fatalf("resolved %d user roles and %d admin roles; the layout has 4 apps in 2 accounts", len(users), len(admins))
	}
}
