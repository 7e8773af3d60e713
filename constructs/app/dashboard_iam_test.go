package app_test

import (
	"testing"

	"github.com/wharf-paas/wharf/internal/dashfake"
	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// userRoleGaps are dashboard calls the user role does not allow yet, by
// "action resource", with the reason; a gap that closes is logged, any
// other denied call fails. (The status document and activity log reads
// were the last ones; the user role has ReadOwnStatus and ReadOwnLogs (which covers the activity group).)
var userRoleGaps = map[string]string{}

// Every call the web dashboard makes for an app (internal/dashfake
// BrowserRequests, the calls of web/src/api.ts) is allowed by that app's
// synthesized user role (but for userRoleGaps), and the same calls for
// another app are not.
func TestUserRoleAllowsTheDashboard(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-user")
	for _, req := range dashfake.BrowserRequests("wharf", "api", "111122223333", "eu-west-1", "wharf-main") {
		d, err := iampolicy.Evaluate(iampolicy.Request{Action: req.Action, Resource: req.Resource, Context: req.Context}, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		gap, known := userRoleGaps[req.Action+" "+req.Resource]
		switch {
		case !d.Allowed() && known:
			t.Logf("known gap (%s): %s on %s is denied", gap, req.Action, req.Resource)
		case !d.Allowed():
			t.Errorf("%s page: %s on %s is denied: %s", req.Page, req.Action, req.Resource, d)
		case known:
			t.Logf("gap closed: %s on %s is allowed now; remove it from userRoleGaps", req.Action, req.Resource)
		}
	}
	for _, req := range dashfake.BrowserRequests("wharf", "billing", "111122223333", "eu-west-1", "wharf-main") {
		if req.Resource == "*" {
			continue // ListTasks: the cluster is shared; the role may list its tasks
		}
		d, err := iampolicy.Evaluate(iampolicy.Request{Action: req.Action, Resource: req.Resource, Context: req.Context}, role.Policies...)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed() {
			t.Errorf("api's user role may %s on billing's %s", req.Action, req.Resource)
		}
	}
}
