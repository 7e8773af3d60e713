package cdktest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSweepStaleRuntimes: an old jsii-runtime.* directory (a crashed test
// binary's) is removed; a fresh one (a running process's) and unrelated
// old directories are kept.
func TestSweepStaleRuntimes(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "jsii-runtime.123")
	fresh := filepath.Join(dir, "jsii-runtime.456")
	other := filepath.Join(dir, "other.789")
	for _, d := range []string{old, fresh, other} {
		if err := os.MkdirAll(filepath.Join(d, "bin"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-25 * time.Hour)
	for _, d := range []string{old, other} {
		if err := os.Chtimes(d, past, past); err != nil {
			t.Fatal(err)
		}
	}
	removed := SweepStaleRuntimes(dir, StaleRuntimeAge)
	if len(removed) != 1 || removed[0] != old {
		t.Errorf("removed %v, want [%s]", removed, old)
	}
	for d, want := range map[string]bool{old: false, fresh: true, other: true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", d, err == nil, want)
		}
	}
}

func TestMain(m *testing.M) { Main(m) }
