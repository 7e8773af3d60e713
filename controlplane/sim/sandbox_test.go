package sim

import (
	"bytes"
	"strings"
	"testing"
)

// TestSandbox runs the `make sandbox` scenario and checks its outcome:
// api ends on build 5 with web and clock (the worker it dropped is gone),
// shop ends failed by the circuit breaker and still runs build 1, the
// failing release and the rollback happened, and no invariant broke.
func TestSandbox(t *testing.T) {
	var out bytes.Buffer
	res, err := RunSandbox(&out, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Violated() {
		t.Errorf("sandbox broke invariants:\n%s", violationLines(res))
	}
	apps := map[string]AppSummary{}
	for _, a := range res.Apps {
		apps[a.App] = a
	}
	api, shop := apps["api"], apps["shop"]
	if api.Running != 5 || api.Phase != "deployed" || api.Build != 5 || strings.Join(api.Services, " ") != "clock×1 web×2" {
		t.Errorf("api: %+v", api)
	}
	if api.Builds != 5 || api.Succeeded != 4 || api.Failed != 1 || api.ConfigChanges != 2 {
		t.Errorf("api builds: %+v", api)
	}
	if shop.Running != 1 || shop.Phase != "failed" || shop.Build != 3 || !strings.Contains(shop.Reason, "rolled_back") || shop.Rollbacks < 1 {
		t.Errorf("shop: %+v", shop)
	}
	text := out.String()
	for _, want := range []string{"push api: build api#5", "release", "SERVICE_DEPLOYMENT_FAILED", "rolling back", "put-parameter", "app    builds"} {
		if !strings.Contains(text, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + text)
	}
}
