package contract

import (
	"strings"
	"testing"
)

func i32(v int32) *int32 { return &v }

func TestScaleSettingValidate(t *testing.T) {
	cases := []struct {
		name  string
		doc   string
		field string // "" = valid
	}{
		{"count", `{"version":1,"processes":{"web":{"count":3},"worker":{"count":0}}}`, ""},
		{"range", `{"version":1,"processes":{"web":{"min":2,"max":10,"cpuTarget":60}}}`, ""},
		{"requests", `{"version":1,"processes":{"web":{"min":1,"max":4,"requestsPerTarget":500}}}`, ""},
		{"size only", `{"version":1,"processes":{"web":{"cpu":512,"memory":2048}}}`, ""},
		{"empty", `{"version":1}`, ""},
		{"version", `{"version":2,"processes":{}}`, "scale.version"},
		{"bad json", `{"version":1,"processes":[]}`, "scale"},
		{"bad name", `{"version":1,"processes":{"Web":{"count":1}}}`, "scale.processes.Web"},
		{"count and range", `{"version":1,"processes":{"web":{"count":1,"max":3}}}`, "scale.processes.web"},
		{"min over max", `{"version":1,"processes":{"web":{"min":5,"max":3}}}`, "scale.processes.web.min"},
		{"too many", `{"version":1,"processes":{"web":{"count":1001}}}`, "scale.processes.web.count"},
		{"target range", `{"version":1,"processes":{"web":{"min":1,"max":3,"cpuTarget":95}}}`, "scale.processes.web.cpuTarget"},
		{"min without max", `{"version":1,"processes":{"web":{"min":1}}}`, "scale.processes.web.max"},
		{"bad size", `{"version":1,"processes":{"web":{"cpu":256,"memory":4096}}}`, "scale.processes.web.memory"},
		{"bad cpu", `{"version":1,"processes":{"web":{"cpu":300,"memory":512}}}`, "scale.processes.web.cpu"},
		{"nothing", `{"version":1,"processes":{"web":{}}}`, "scale.processes.web"},
	}
	for _, c := range cases {
		_, err := ParseScaleSetting([]byte(c.doc))
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		fe := AsFieldError(err)
		if fe == nil || fe.Field != c.field {
			t.Errorf("%s: got %v, want an error on %s", c.name, err, c.field)
		}
	}
}

func TestRuntimeRequests(t *testing.T) {
	if _, err := ParseRestartRequest([]byte(`{"version":1,"id":"r-1","process":"web"}`)); err != nil {
		t.Error(err)
	}
	if _, err := ParseRestartRequest([]byte(`{"version":1,"id":"has space"}`)); AsFieldError(err) == nil || AsFieldError(err).Field != "restart.id" {
		t.Errorf("id with a space: %v", err)
	}
	if _, err := ParseRollbackRequest([]byte(`{"version":1,"id":"x","build":0}`)); AsFieldError(err) == nil || AsFieldError(err).Field != "rollback.build" {
		t.Errorf("build 0: %v", err)
	}
	n := Names{Prefix: "wharf"}
	got := strings.Join(n.RuntimeRequestParameters("shop"), " ")
	if got != "/wharf/apps/shop/scale /wharf/apps/shop/restart /wharf/apps/shop/rollback" {
		t.Errorf("parameters: %s", got)
	}
	if s := (ProcessScale{Min: 2, Max: 10}).String(); s != "2-10 cpu 60%" {
		t.Errorf("String: %q", s)
	}
	if s := (ProcessScale{Count: i32(3), CPU: 512, Memory: 1024}).String(); s != "3 512/1024" {
		t.Errorf("String: %q", s)
	}
}
