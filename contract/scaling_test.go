package contract

import "testing"

// The Application Auto Scaling names of an app's service follow the
// documented forms: ResourceId service/<cluster-name>/<service-name>, one
// target-tracking policy per service.
func TestScalingNames(t *testing.T) {
	n := Names{Prefix: "wharf"}
	if got := ScalableResourceID("wharf-main", n.Family("api", "web")); got != "service/wharf-main/wharf-api_web" {
		t.Errorf("ScalableResourceID = %q", got)
	}
	if got := n.ScalingPolicyName("api", "web"); got != "wharf-api_web-target" {
		t.Errorf("ScalingPolicyName = %q", got)
	}
	for _, p := range n.RuntimeRequestParameters("api") {
		app, rest, ok := n.AppOfParameter(p)
		if !ok || app != "api" || (rest != ScaleKey && rest != RestartKey && rest != RollbackKey) {
			t.Errorf("AppOfParameter(%s) = %q %q %v", p, app, rest, ok)
		}
	}
}
