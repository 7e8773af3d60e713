package contract

import "testing"

func TestDashboardNames(t *testing.T) {
	if got := (Names{Prefix: "acme"}).DashboardStack(); got != "acme-dashboard" {
		t.Errorf("DashboardStack = %q", got)
	}
}
