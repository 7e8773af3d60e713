package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleAppBuilds runs the build script, Docker stubbed, on
// examples/hello: the sample app the quick start deploys. Its processes,
// release command and test run are what the README says.
func TestSampleAppBuilds(t *testing.T) {
	files := map[string]string{}
	dir := filepath.Join("..", "..", "examples", "hello")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	for _, want := range []string{"Dockerfile", "Procfile", "wharf.json", "README.md", "main_test.go"} {
		if _, ok := files[want]; !ok {
			t.Errorf("examples/hello lacks %s", want)
		}
	}
	s := newSandbox(t, files)
	out, err := s.runAll("prepare", "image", "test", "publish")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := s.index("docker run --pull never --name wharf-test-42-app")
	if run < 0 || !strings.Contains(s.calls()[run], "DATABASE_URL=postgres://") || !strings.HasSuffix(s.calls()[run], "/bin/sh -c go test -v ./...") {
		t.Errorf("sample tests not run with postgres:\n%s", s.file("calls.log"))
	}
	if s.index("docker run -d --pull never --name wharf-test-42-postgres --network wharf-test-42 --network-alias postgres -e POSTGRES_USER=postgres -e POSTGRES_PASSWORD=postgres -e POSTGRES_DB=test postgres:16") < 0 {
		t.Errorf("postgres 16 not started:\n%s", s.file("calls.log"))
	}
	b, err := os.ReadFile(filepath.Join(s.repo, ".wharf", "wharf-build.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ReleaseCommand string                            `json:"releaseCommand"`
		Processes      map[string]map[string]interface{} `json:"processes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ReleaseCommand != "hello migrate" || doc.Processes["web"]["command"] != "hello web" || doc.Processes["worker"]["command"] != "hello worker" ||
		doc.Processes["web"]["count"] != 2.0 {
		t.Errorf("wharf-build.json %s", b)
	}
}
