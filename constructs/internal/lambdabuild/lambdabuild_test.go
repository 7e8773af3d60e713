package lambdabuild

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeModule lays out a tiny module with lambda/fn/main.go printing msg.
func writeModule(t *testing.T, root, msg string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(root, "lambda", "fn"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/fn\n\ngo 1.26\n"), 0o644))
	src := "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"" + msg + "\") }\n"
	must(t, os.WriteFile(filepath.Join(root, "lambda", "fn", "main.go"), []byte(src), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func buildBytes(t *testing.T, root string) []byte {
	t.Helper()
	out := t.TempDir()
	must(t, buildInto(root, "fn", out))
	b, err := os.ReadFile(filepath.Join(out, "bootstrap"))
	must(t, err)
	return b
}

// The asset hash CDK computes is a hash of the folder's bytes, so byte-equal
// builds are what keeps the hash stable.
func TestBuildIsDeterministicAndTracksSource(t *testing.T) {
	// Two copies of the same source in different folders: -trimpath must
	// remove the folder from the binary.
	a, b := t.TempDir(), t.TempDir()
	writeModule(t, a, "hello")
	writeModule(t, b, "hello")
	first := buildBytes(t, a)
	again := buildBytes(t, a)
	other := buildBytes(t, b)
	if !bytes.Equal(first, again) {
		t.Fatal("two builds of the same source differ")
	}
	if !bytes.Equal(first, other) {
		t.Fatal("builds of the same source in different folders differ (path leaked into the binary)")
	}
	writeModule(t, a, "hello, changed")
	changed := buildBytes(t, a)
	if bytes.Equal(first, changed) {
		t.Fatal("changing the source did not change the binary")
	}
}

func TestBuildTargetsLinuxArm64Stripped(t *testing.T) {
	root := t.TempDir()
	writeModule(t, root, "x")
	out := t.TempDir()
	must(t, buildInto(root, "fn", out))
	f, err := elf.Open(filepath.Join(out, "bootstrap"))
	must(t, err)
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("machine = %v, want EM_AARCH64", f.Machine)
	}
	if s := f.Section(".symtab"); s != nil {
		t.Error("binary has a symbol table; want it stripped (-s)")
	}
	info, err := os.Stat(filepath.Join(out, "bootstrap"))
	must(t, err)
	if info.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode %v is not executable", info.Mode())
	}
}

func TestBuildErrorNamesPackage(t *testing.T) {
	root := t.TempDir()
	writeModule(t, root, "x")
	err := buildInto(root, "missing", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "./lambda/missing") {
		t.Fatalf("err = %v, want it to name ./lambda/missing", err)
	}
}

func TestDirRejectsPaths(t *testing.T) {
	for _, name := range []string{"", "../x", "a/b", "a.b"} {
		if _, err := Dir(name); err == nil {
			t.Errorf("Dir(%q) succeeded, want an error", name)
		}
	}
}

// A build whose inputs did not change is reused without running the
// compiler; a change to a source file, to a file the function embeds, or
// to go.mod makes a new build.
func TestCacheReusesUnchangedBuilds(t *testing.T) {
	t.Setenv(EnvCacheDir, t.TempDir())
	root := t.TempDir()
	writeModule(t, root, "v1")
	must(t, os.WriteFile(filepath.Join(root, "lambda", "fn", "embed.go"),
		[]byte("package main\n\nimport _ \"embed\"\n\n//go:embed data.txt\nvar data string\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "lambda", "fn", "data.txt"), []byte("one"), 0o644))
	build := func(wantHit bool) (string, os.FileInfo) {
		t.Helper()
		dir, hit, err := buildIn(root, "fn")
		must(t, err)
		if hit != wantHit {
			t.Fatalf("cache hit = %v, want %v", hit, wantHit)
		}
		st, err := os.Stat(filepath.Join(dir, "bootstrap"))
		must(t, err)
		return dir, st
	}
	first, st1 := build(false)
	again, st2 := build(true)
	if again != first || !st2.ModTime().Equal(st1.ModTime()) {
		t.Errorf("an unchanged build was not reused: %s then %s", first, again)
	}
	// A test file is not an input.
	must(t, os.WriteFile(filepath.Join(root, "lambda", "fn", "main_test.go"), []byte("package main\n"), 0o644))
	build(true)
	seen := map[string]bool{first: true}
	for _, change := range []func(){
		func() { writeModule(t, root, "v2") },
		func() { must(t, os.WriteFile(filepath.Join(root, "lambda", "fn", "data.txt"), []byte("two"), 0o644)) },
		func() {
			must(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/fn\n\ngo 1.26\n\n// changed\n"), 0o644))
		},
	} {
		change()
		dir, _ := build(false)
		if seen[dir] {
			t.Errorf("a changed input reused %s", dir)
		}
		seen[dir] = true
		build(true)
	}
}

// Prebuild starts the build; Dir waits for that same build.
func TestPrebuildSharesTheBuild(t *testing.T) {
	Prebuild("no-such-lambda-x")
	_, err1 := Dir("no-such-lambda-x")
	_, err2 := Dir("no-such-lambda-x")
	if err1 == nil || err1 != err2 {
		t.Errorf("Dir after Prebuild: %v, %v (want the one build's error twice)", err1, err2)
	}
}
