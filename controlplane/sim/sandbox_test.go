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
	// Build 2 finished after build 3 and is shown as skipped, not
	// deployed (docs/simulation.md, "Sandbox").
	if !strings.Contains(text, "wharf record api build 2 skipped reason=superseded") {
		t.Error("the timeline does not show api build 2 as skipped (superseded by build 3)")
	}
	if strings.Contains(text, "record api build 2 deployed") {
		t.Error("api build 2 was deployed over build 3")
	}
	// Every timeline line starts with a marker the legend explains.
	_, timeline, _ := strings.Cut(text, "Legend:")
	seen := map[string]bool{}
	for _, line := range strings.Split(timeline, "\n") {
		if !strings.HasPrefix(line, "+") {
			continue
		}
		_, body, _ := strings.Cut(line, " ")
		body = strings.TrimSpace(body)
		found := false
		for _, l := range SandboxLegend {
			if strings.HasPrefix(body, l.Marker+" ") {
				found, seen[l.Marker] = true, true
				break
			}
		}
		if !found {
			t.Errorf("no legend entry for the timeline line %q", line)
		}
	}
	for _, m := range []string{">", "aws", "wharf state", "wharf →", "wharf record", "app", "FAULT"} {
		if !seen[m] {
			t.Errorf("the timeline never shows %q; the legend or the test is stale", m)
		}
		if !strings.Contains(text, "  "+m+" ") {
			t.Errorf("the legend does not explain %q", m)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + text)
	}
}
