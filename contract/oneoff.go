package contract

import (
	"fmt"
	"regexp"
	"strings"
)

// One-off tasks: what "wharf run", "wharf exec --new", "wharf shell" and
// "wharf db shell" start with the app's user role (docs/cli.md). They run
// the app's release task definition (ReleaseFamily) with the command
// overridden, in the app's network, and carry the app's wharf:app tag like
// every other task of the app.

// Kinds of one-off task (the second word of their startedBy).
const (
	OneOffRun   = "run"
	OneOffShell = "shell"
	OneOffDB    = "db"
)

// OneOffStartedByPrefix begins the startedBy of every one-off task:
// wharf-<kind>-<user>.
const OneOffStartedByPrefix = "wharf-"

// Caps of a one-off task's size. ValidateTaskSize checks the Fargate
// combination; these bound it further so that a user of one app cannot
// start the largest Fargate size from the CLI (a cost, not a security,
// boundary: the platform team can still size processes larger in the
// build's process spec).
const (
	// MaxOneOffCPU is the largest --cpu (CPU units): 4 vCPU.
	MaxOneOffCPU = 4096
	// MaxOneOffMemory is the largest --memory (MiB): 16 GiB.
	MaxOneOffMemory = 16384
	// MaxOneOffSeconds is how long a keep-alive one-off task (exec --new,
	// shell, db shell) lives at most when the CLI that started it can no
	// longer stop it: 12 hours.
	MaxOneOffSeconds = 12 * 60 * 60
)

// startedByInvalid matches what ECS does not allow in startedBy ("Up to
// 128 letters (uppercase and lowercase), numbers, hyphens (-), forward
// slash (/), and underscores (_) are allowed.", RunTask API reference).
var startedByInvalid = regexp.MustCompile(`[^A-Za-z0-9_/-]`)

// OneOffStartedBy is the startedBy of a one-off task of kind (OneOffRun,
// OneOffShell, OneOffDB) started by user (an email or session name): the
// characters ECS does not allow become '-', at most 128 characters.
func OneOffStartedBy(kind, user string) string {
	s := OneOffStartedByPrefix + kind + "-" + startedByInvalid.ReplaceAllString(user, "-")
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

// ParseOneOffStartedBy returns the kind of a one-off task's startedBy.
func ParseOneOffStartedBy(startedBy string) (kind string, ok bool) {
	rest, ok := strings.CutPrefix(startedBy, OneOffStartedByPrefix)
	if !ok {
		return "", false
	}
	kind, _, ok = strings.Cut(rest, "-")
	switch kind {
	case OneOffRun, OneOffShell, OneOffDB:
		return kind, ok
	}
	return "", false
}

// ValidateOneOffSize checks a one-off task's size: a Fargate combination
// (ValidateTaskSize) within MaxOneOffCPU and MaxOneOffMemory. field names
// the pair ("run": the errors name "run.cpu" or "run.memory").
func ValidateOneOffSize(field string, cpu, memory int32) error {
	if cpu > MaxOneOffCPU {
		return Errorf(field+".cpu", RuleRange, "must be at most %d CPU units for a one-off task, got %d", MaxOneOffCPU, cpu)
	}
	if memory > MaxOneOffMemory {
		return Errorf(field+".memory", RuleRange, "must be at most %d MiB for a one-off task, got %d", MaxOneOffMemory, memory)
	}
	return ValidateTaskSize(field, cpu, memory)
}

// KeepAliveCommand is the command of a one-off task that only hosts ECS
// Exec sessions: it waits up to grace seconds for the first session, then
// lives while an SSM session worker runs in the container (ECS Exec's
// agent starts one per session), and at most MaxOneOffSeconds. The
// bracket keeps grep from matching its own command line. It needs /bin/sh
// and grep in the image, as ECS Exec needs a shell.
func KeepAliveCommand(grace int) []string {
	script := fmt.Sprintf(`end=$(($(date +%%s)+%d)); sleep %d; `+
		`while [ "$(date +%%s)" -lt "$end" ] && grep -qs 'ssm-session-worke[r]' /proc/[0-9]*/cmdline; do sleep 10; done`,
		MaxOneOffSeconds, grace)
	return []string{"/bin/sh", "-c", script}
}
