package app_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/contract"
)

// The App construct and its build script write the two documents the
// control plane reads (docs/conventions.md). These tests decode what they
// write with the control plane's own types, strictly, so a field renamed or
// dropped on either side fails here rather than in a customer's deploy.

// jsonFields returns the JSON names of t's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// decodeStrict decodes data into v and fails on fields v does not have.
func decodeStrict(t *testing.T, what string, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s does not decode into the control plane's type: %v\n%s", what, err, data)
	}
}

func TestSettingsMatchTheControlPlaneContract(t *testing.T) {
	f := getFixture(t)
	for name, tpl := range map[string]map[string]interface{}{"api": f.apiJSON, "worker-v2": f.workerJSON} {
		t.Run(name, func(t *testing.T) {
			raw := []byte(apptest.Render(props(t, tpl, "AppSettingsBAC69173")["Value"]))
			var s contract.Settings
			decodeStrict(t, "settings of "+name, raw, &s)
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(raw, &keys); err != nil {
				t.Fatal(err)
			}
			// Every field the control plane reads is written; the web
			// app has a target group, the worker only a port.
			for _, k := range jsonFields(reflect.TypeOf(s)) {
				if _, ok := keys[k]; !ok && !(name == "worker-v2" && k == "targetGroupArn") {
					t.Errorf("settings of %s lack %q, which the control plane reads", name, k)
				}
			}
			if s.App != name || s.Prefix != "wharf" || s.ConfigPrefix != "/wharf/apps/"+name+"/config/" || s.Version != 1 {
				t.Errorf("settings of %s decode to %+v", name, s)
			}
		})
	}
}

func TestBuildMetadataMatchesTheControlPlaneContract(t *testing.T) {
	scripts := writeScripts(t)
	repo := writeRepo(t, map[string]string{
		"Dockerfile": "FROM scratch\n",
		"Procfile":   "web: bin/web --port $PORT\nworker: bin/worker\nrelease: bin/migrate\n",
		"wharf.json": `{"processes": {"web": {"cpu": 512, "memory": 1024, "count": 2}},
			"schedules": [{"name": "nightly", "schedule": "cron(0 3 * * ? *)", "command": "bin/nightly"}]}`,
	})
	doc, _, err := generate(t, scripts, repo)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var strict contract.BuildMetadata
	decodeStrict(t, "wharf-build.json", raw, &strict)
	m, err := contract.Names{Prefix: "wharf"}.ParseBuildMetadata(raw, "api", 42)
	if err != nil {
		t.Fatalf("the control plane rejects the build script's metadata: %v\n%s", err, raw)
	}
	web := m.Processes["web"]
	if m.ReleaseCommand != "bin/migrate" || web.Command != "bin/web --port $PORT" || web.CPU != 512 || web.DesiredCount() != 2 ||
		m.Processes["worker"].CPU != 256 || len(m.Schedules) != 1 || m.Schedules[0].Name != "nightly" || m.Image != digest {
		t.Errorf("control plane reads %+v", m)
	}
}
