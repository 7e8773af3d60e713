package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLauncherKey checks which changes make run.js (cdk.json's app command)
// build the platform app again: it runs `node run.js --key` in a small
// module laid out like the repository and changes one file at a time.
// Every input of the build must change the key; files that cannot reach
// the binary must not (or every synth would rebuild).
func TestLauncherKey(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed by cdk.json's app command (make deps installs the CDK CLI with it): %v", err)
	}
	src, err := os.ReadFile("run.js")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("go.sum", "")
	write("apps/platform/run.js", string(src))
	write("apps/platform/main.go", "package main\n\nfunc main() {}\n")
	write("lib/lib.go", "package lib\n")
	write("lib/assets/data.txt", "embedded\n")
	write("docs/readme.md", "docs\n")
	write("nested/go.mod", "module example.com/nested\n")
	write("nested/n.go", "package nested\n")
	key := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(node, filepath.Join(root, "apps", "platform", "run.js"), "--key")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run.js --key: %v\n%s", err, out)
		}
		k := strings.TrimSpace(string(out))
		if len(k) != 32 {
			t.Fatalf("run.js --key printed %q, want 32 hex digits", k)
		}
		return k
	}
	base := key()
	if again := key(); again != base {
		t.Fatalf("the key of an unchanged tree changed: %s, then %s", base, again)
	}
	// The same files in another clone: the binary reads the repository's
	// files (web/ for the dashboard) from the paths it was compiled at, so
	// a binary built in one clone must not run for another.
	clone := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("cp", "-a", root, clone).CombinedOutput(); err != nil {
		t.Fatalf("copy the tree: %v\n%s", err, out)
	}
	cmd := exec.Command(node, filepath.Join(clone, "apps", "platform", "run.js"), "--key")
	cmd.Dir = clone
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) == base {
		t.Errorf("a clone of the tree in another directory has the same key %s (%v): it would run the other clone's binary", base, err)
	}

	for _, c := range []struct {
		name   string
		change func()
		env    []string
		same   bool
	}{
		{name: "the app's source", change: func() { write("apps/platform/main.go", "package main\n\nfunc main() { println() }\n") }},
		{name: "a package's source", change: func() { write("lib/lib.go", "package lib\n\nconst X = 1\n") }},
		{name: "a new source file", change: func() { write("lib/more.go", "package lib\n") }},
		{name: "a file below a package (go:embed can name it)", change: func() { write("lib/assets/data.txt", "changed\n") }},
		{name: "go.mod", change: func() { write("go.mod", "module example.com/m\n\ngo 1.23\n") }},
		{name: "go.sum", change: func() { write("go.sum", "example.com/x v1.0.0 h1:abc=\n") }},
		{name: "the launcher", change: func() { write("apps/platform/run.js", string(src)+"\n") }},
		{name: "GOFLAGS", env: []string{"GOFLAGS=-tags=other"}},
		{name: "GOARCH", env: []string{"GOARCH=arm64"}},
		{name: "a test file", change: func() { write("lib/lib_test.go", "package lib\n") }, same: true},
		{name: "a directory without Go files", change: func() { write("docs/readme.md", "changed\n") }, same: true},
		{name: "a nested module", change: func() { write("nested/n.go", "package nested\n\nconst Y = 2\n") }, same: true},
		{name: "the cloud assembly", change: func() { write("cdk.out/manifest.json", "{}") }, same: true},
		{name: "node_modules", change: func() { write("lib/node_modules/x/index.js", "x") }, same: true},
		{name: "a test binary", change: func() { write("lib/lib.test", "ELF") }, same: true},
	} {
		if c.change != nil {
			c.change()
		}
		got := key(c.env...)
		if c.same && got != base {
			t.Errorf("changing %s changed the key (every synth would rebuild)", c.name)
		}
		if !c.same && got == base {
			t.Errorf("changing %s left the key alone (a stale binary would run)", c.name)
		}
		if c.env == nil {
			base = got // the next case starts from this tree
		}
	}
}
