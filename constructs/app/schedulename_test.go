package app_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/contract"
)

// TestBuildScriptScheduleNamesAgreeWithContract runs the build script's
// schedule check (wharf-meta.py detect, which runs before the build, and
// generate) on names around the bound of several prefixes and apps, and
// checks that it accepts exactly what contract.ValidateScheduleName
// accepts: with the bound the App construct passes (WHARF_MAX_SCHEDULE_NAME
// = contract.MaxScheduleNameLength) and with the bound the script computes
// itself when none is passed.
func TestBuildScriptScheduleNamesAgreeWithContract(t *testing.T) {
	scripts := writeScripts(t)
	longPrefix := "abcdefghijklmnop"
	for _, pa := range [][2]string{
		{"wharf", "api"},
		{longPrefix, strings.Repeat("a", contract.MaxAppNameLengthFor(longPrefix))},
		{"w", strings.Repeat("b", 30)},
	} {
		prefix, appName := pa[0], pa[1]
		n := contract.Names{Prefix: prefix}
		if err := n.ValidateApp(appName); err != nil {
			t.Fatalf("test app %s under %s: %v", appName, prefix, err)
		}
		bound := contract.MaxScheduleNameLength(prefix, appName)
		names := []string{"a", "n-1", "Nightly", "a--b", "a-", strings.Repeat("n", bound-1), strings.Repeat("n", bound), strings.Repeat("n", bound+1)}
		for _, name := range names {
			want := n.ValidateScheduleName(appName, name) == nil
			repo := writeRepo(t, map[string]string{"Procfile": "web: x\n",
				"wharf.json": `{"schedules": [{"name": "` + name + `", "schedule": "rate(1 day)", "command": "x"}]}`})
			for _, args := range [][]string{
				{"detect", "--prefix", prefix, "--app", appName, "--max-schedule-name", strconv.Itoa(bound)},
				{"generate", "--prefix", prefix, "--app", appName, "--build-number", "1", "--build-id", "b", "--commit", "c", "--image", digest},
			} {
				_, stderr, err := meta(t, scripts, repo, args...)
				if got := err == nil; got != want {
					t.Errorf("%s %s/%s schedule %q (%d characters, bound %d): script accepts %v, contract %v; stderr %s",
						args[0], prefix, appName, name, len(name), bound, got, want, stderr)
				}
				if !want && len(name) > bound && !strings.Contains(stderr, "at most "+strconv.Itoa(bound)) {
					t.Errorf("%s: the refusal of %q does not state the bound %d: %s", args[0], name, bound, stderr)
				}
			}
		}
	}
}
