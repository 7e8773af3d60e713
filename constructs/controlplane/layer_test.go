package controlplanestack

import (
	"os"
	"path/filepath"
	"testing"
)

// The layer folder is a function of the registry JSON alone: the same JSON
// gives the same folder holding exactly the same file, whatever was left
// there before.
func TestRegistryLayerDirIsDeterministic(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const js = `{"prefix":"wharf","accounts":[],"apps":[]}`
	dir, err := registryLayerDir(js)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "wharf", "registry.json")
	check := func(what string) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil || string(b) != js {
			t.Fatalf("%s: registry file = %q, %v", what, b, err)
		}
		if !layerDirHolds(dir, js) {
			t.Fatalf("%s: %s holds more than the registry file, or wrong modes", what, dir)
		}
	}
	check("first write")
	again, err := registryLayerDir(js)
	if err != nil || again != dir {
		t.Fatalf("second call: %s, %v; want %s", again, err, dir)
	}
	check("second call")

	// Tampering is repaired: wrong content, a private mode, stray files.
	if err := os.WriteFile(file, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, stray := range []string{"stray.txt", filepath.Join("wharf", "old.json")} {
		if err := os.WriteFile(filepath.Join(dir, stray), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "extra", "deeper"), 0o700); err != nil {
		t.Fatal(err)
	}
	if layerDirHolds(dir, js) {
		t.Fatal("tampered folder judged intact")
	}
	if again, err := registryLayerDir(js); err != nil || again != dir {
		t.Fatalf("repair: %s, %v", again, err)
	}
	check("repair")
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o644 {
		t.Errorf("registry file mode = %v, want 0644", st.Mode().Perm())
	}

	other, err := registryLayerDir(`{"prefix":"acme","accounts":[],"apps":[]}`)
	if err != nil || other == dir {
		t.Fatalf("another registry: %s, %v; want a folder other than %s", other, err, dir)
	}
	// No temp files are left next to the folders.
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 2 {
		t.Errorf("layer root holds %d entries, want the 2 layer folders", len(entries))
	}
}
