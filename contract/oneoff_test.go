package contract

import (
	"strings"
	"testing"
)

func TestOneOffStartedBy(t *testing.T) {
	got := OneOffStartedBy(OneOffRun, "alice.o'neil+x@example.com")
	if got != "wharf-run-alice-o-neil-x-example-com" {
		t.Errorf("OneOffStartedBy = %q", got)
	}
	if kind, ok := ParseOneOffStartedBy(got); !ok || kind != OneOffRun {
		t.Errorf("ParseOneOffStartedBy(%q) = %q %v", got, kind, ok)
	}
	long := OneOffStartedBy(OneOffShell, strings.Repeat("a", 300))
	if len(long) != 128 {
		t.Errorf("long startedBy has %d characters", len(long))
	}
	for _, s := range []string{"wharf-release-12", "other-run-x", "wharf-run"} {
		if _, ok := ParseOneOffStartedBy(s); ok {
			t.Errorf("ParseOneOffStartedBy(%q) accepted", s)
		}
	}
}

func TestValidateOneOffSize(t *testing.T) {
	cases := []struct {
		cpu, mem int32
		field    string
	}{
		{256, 512, ""},
		{4096, 16384, ""},
		{8192, 16384, "run.cpu"},
		{4096, 30720, "run.memory"},
		{1024, 512, "run.memory"},
		{300, 512, "run.cpu"},
	}
	for _, c := range cases {
		err := ValidateOneOffSize("run", c.cpu, c.mem)
		if c.field == "" {
			if err != nil {
				t.Errorf("%d/%d: %v", c.cpu, c.mem, err)
			}
			continue
		}
		if fe := AsFieldError(err); fe == nil || fe.Field != c.field {
			t.Errorf("%d/%d: got %v, want an error on %s", c.cpu, c.mem, err, c.field)
		}
	}
}

func TestKeepAliveCommand(t *testing.T) {
	cmd := KeepAliveCommand(120)
	if len(cmd) != 3 || cmd[0] != "/bin/sh" || !strings.Contains(cmd[2], "sleep 120") || !strings.Contains(cmd[2], "+43200") {
		t.Errorf("KeepAliveCommand = %q", cmd)
	}
}
