package app_test

import (
	"testing"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// Issue 11: the user role writes exactly its own app's runtime requests
// (scale, restart, rollback) and reads its own trust policy. A hostile
// user of api (or whoever holds api's user credentials) tries to write
// another app's requests, api's own settings and status (which the
// control plane trusts), a parameter beside the requests, and to read
// other roles.
func TestUserRoleRuntimeRequests(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-user")
	eval := func(action, resource string) iampolicy.Decision {
		t.Helper()
		d, err := iampolicy.Evaluate(iampolicy.Request{Action: action, Resource: resource}, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	param := func(name string) string { return "arn:aws:ssm:eu-west-1:111122223333:parameter" + name }
	n := contract.Names{Prefix: "wharf"}
	for _, p := range n.RuntimeRequestParameters("api") {
		for _, action := range []string{"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"} {
			if d := eval(action, param(p)); !d.Allowed() {
				t.Errorf("api's user cannot %s its own %s: %s", action, p, d)
			}
		}
	}
	if d := eval("iam:GetRole", "arn:aws:iam::111122223333:role/wharf-app-api-user"); !d.Allowed() {
		t.Errorf("api's user cannot read its own role (wharf access): %s", d)
	}
	denied := map[string][2]string{
		"another app's scale":           {"ssm:PutParameter", param(n.ScaleParameter("worker-v2"))},
		"another app's restart":         {"ssm:PutParameter", param(n.RestartParameter("web"))},
		"another app's rollback":        {"ssm:PutParameter", param(n.RollbackParameter("apiv2"))},
		"delete another app's scale":    {"ssm:DeleteParameter", param(n.ScaleParameter("billing"))},
		"read another app's rollback":   {"ssm:GetParameter", param(n.RollbackParameter("billing"))},
		"its own settings":              {"ssm:PutParameter", param(n.SettingsParameter("api"))},
		"its own status":                {"ssm:PutParameter", param(n.StatusParameter("api"))},
		"delete its own status":         {"ssm:DeleteParameter", param(n.StatusParameter("api"))},
		"a parameter beside the scale":  {"ssm:PutParameter", param(n.AppParameterPath("api") + "scale2")},
		"below the scale parameter":     {"ssm:PutParameter", param(n.ScaleParameter("api") + "/x")},
		"the administrators list":       {"ssm:PutParameter", param(n.AdministratorsParameter())},
		"another app's role":            {"iam:GetRole", "arn:aws:iam::111122223333:role/wharf-app-web-user"},
		"the management role":           {"iam:GetRole", "arn:aws:iam::111122223333:role/wharf-app-api-management"},
		"the admin role":                {"iam:GetRole", "arn:aws:iam::111122223333:role/wharf-account-admin"},
		"its own role's policy changes": {"iam:UpdateAssumeRolePolicy", "arn:aws:iam::111122223333:role/wharf-app-api-user"},
		"its own role's inline policy":  {"iam:PutRolePolicy", "arn:aws:iam::111122223333:role/wharf-app-api-user"},
		"the database manager":          {"lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:111122223333:function:wharf-database-main-manager"},
	}
	for name, c := range denied {
		if d := eval(c[0], c[1]); d.Allowed() {
			t.Errorf("%s: api's user may %s on %s: %s", name, c[0], c[1], d)
		}
	}
	// The worker-v2 app's user role (if any) is not api's business; the
	// same requests from api's policies for the worker app are denied
	// above. And the app's other roles gain nothing.
	for _, other := range []string{"wharf-app-api-management"} {
		r := managementRole(t, getFixture(t).apiJSON, other)
		for _, p := range n.RuntimeRequestParameters("api") {
			d, err := iampolicy.Evaluate(iampolicy.Request{Action: "ssm:PutParameter", Resource: param(p)}, r.Policies...)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed() {
				t.Errorf("%s may write %s: the control plane never writes the requests", other, p)
			}
		}
	}
}
