package controlplane

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

// failBuildIn gives a finished build the phases and log CodeBuild reports
// when the command failed in the BUILD phase: the context message names
// the command ("Error while executing command: <command>. Reason: exit
// status 1").
func (w *twWorld) failBuildIn(app string, n int64, command string) {
	id := fmt.Sprintf("wharf-%s:b%d", app, n)
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.builds[id]
	b.Phases = []cbtypes.BuildPhase{
		{PhaseType: cbtypes.BuildPhaseTypeSubmitted, PhaseStatus: cbtypes.StatusTypeSucceeded},
		{PhaseType: cbtypes.BuildPhaseTypePreBuild, PhaseStatus: cbtypes.StatusTypeSucceeded},
		{PhaseType: cbtypes.BuildPhaseTypeBuild, PhaseStatus: cbtypes.StatusTypeFailed, Contexts: []cbtypes.PhaseContext{{
			StatusCode: aws.String("COMMAND_EXECUTION_ERROR"),
			Message:    aws.String("Error while executing command: " + command + ". Reason: exit status 1"),
		}}},
		{PhaseType: cbtypes.BuildPhaseTypeUploadArtifacts, PhaseStatus: cbtypes.StatusTypeSucceeded},
	}
	b.Logs = &cbtypes.LogsLocation{GroupName: aws.String("/wharf/apps/" + app + "/deploys"), StreamName: aws.String(fmt.Sprintf("build/b%d", n))}
}

// TestFailedTestsHaveTheirOwnReason: a build that failed in its test step
// is reported as tests_failed with the build log named; one that failed
// elsewhere stays build_failed (with the log named too).
func TestFailedTestsHaveTheirOwnReason(t *testing.T) {
	h := newHarness(t, NewMemoryStore(), nil)
	h.deployBuild(1, twMeta("api", 1, "", "web"))

	h.w.startBuild("api", 2)
	h.handle(h.ev.build("api", 2, "IN_PROGRESS"))
	h.w.finishBuild("api", 2, cbtypes.StatusTypeFailed, nil)
	h.w.failBuildIn("api", 2, "bash /tmp/wharf/wharf-build.sh test")
	h.handle(h.ev.build("api", 2, "FAILED"))
	h.wantPhase(PhaseFailed, 2, ReasonTestsFailed)
	if d := h.state().Detail; !strings.Contains(d, "tests failed in build 2") || !strings.Contains(d, "group /wharf/apps/api/deploys, stream build/b2") {
		t.Errorf("detail %q does not say the tests failed or name the build log", d)
	}

	h.w.startBuild("api", 3)
	h.handle(h.ev.build("api", 3, "IN_PROGRESS"))
	h.w.finishBuild("api", 3, cbtypes.StatusTypeFailed, nil)
	h.w.failBuildIn("api", 3, "bash /tmp/wharf/wharf-build.sh image")
	h.handle(h.ev.build("api", 3, "FAILED"))
	h.wantPhase(PhaseFailed, 3, ReasonBuildFailed)
	if d := h.state().Detail; !strings.Contains(d, "stream build/b3") {
		t.Errorf("detail %q does not name the build log", d)
	}
}

func TestFailedStep(t *testing.T) {
	msg := func(s string) []cbtypes.PhaseContext { return []cbtypes.PhaseContext{{Message: aws.String(s)}} }
	for _, c := range []struct {
		phases []cbtypes.BuildPhase
		want   string
	}{
		{nil, ""},
		{[]cbtypes.BuildPhase{{PhaseType: cbtypes.BuildPhaseTypeBuild, PhaseStatus: cbtypes.StatusTypeFailed, Contexts: msg("Error while executing command: bash /tmp/wharf/wharf-build.sh test. Reason: exit status 1")}}, "test"},
		{[]cbtypes.BuildPhase{{PhaseType: cbtypes.BuildPhaseTypeBuild, PhaseStatus: cbtypes.StatusTypeFailed, Contexts: msg("Error while executing command: bash /tmp/wharf/wharf-build.sh publish. Reason: exit status 1")}}, ""},
		// The test command in a phase that succeeded is no failure.
		{[]cbtypes.BuildPhase{{PhaseType: cbtypes.BuildPhaseTypeBuild, PhaseStatus: cbtypes.StatusTypeSucceeded, Contexts: msg("wharf-build.sh test")}}, ""},
		// Only the BUILD phase runs the test step.
		{[]cbtypes.BuildPhase{{PhaseType: cbtypes.BuildPhaseTypePreBuild, PhaseStatus: cbtypes.StatusTypeFailed, Contexts: msg("wharf-build.sh test")}}, ""},
	} {
		if got := failedStep(c.phases); got != c.want {
			t.Errorf("failedStep(%v) = %q, want %q", c.phases, got, c.want)
		}
	}
}
