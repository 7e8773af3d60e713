package controlplane

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/wharf-paas/wharf/contract"
)

// ecrImageRE is an image in an ECR repository by digest:
// <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>@sha256:<hex>.
// It is compiled on first use, not at package init: its counted repetitions
// make it the costliest expression in the bootstrap (about 1 ms and 3,400
// allocations), and most events never check an image (docs/performance.md,
// control plane cold start).
var ecrImageRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9][a-z0-9._/-]{1,255})@sha256:[0-9a-f]{64}$`)
})

// refuse says why a build breaks the control plane's policy, or "" when it
// does not: its image must be in an ECR repository of the app's own
// account and region, named by digest (a tag can be moved, and an image
// from elsewhere was not built by the app's project), and it may declare
// at most MaxProcesses process types, MaxSchedules schedules and
// MaxCount tasks per process. The reason names the field and the rule.
//
// With the app's settings (set may be nil when they are unreadable; the
// deploy then fails on them anyway), the image must also be in the app's
// own repository and the build must be of the app's branch: a push to
// another branch that the webhook or a user started must never deploy.
func (pol Policy) refuse(m *contract.BuildMetadata, set *contract.Settings) string {
	g := ecrImageRE().FindStringSubmatch(m.Image)
	switch {
	case g == nil:
		return fmt.Sprintf("build metadata.image: must be an ECR image by digest (<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>), got %q", m.Image)
	case g[1] != pol.Account || g[2] != pol.Region:
		return fmt.Sprintf("build metadata.image: must be in the app's own account %s and region %s, got %s in %s", pol.Account, pol.Region, g[1], g[2])
	case strings.HasPrefix(pol.Region, "cn-") != (g[3] != ""):
		return fmt.Sprintf("build metadata.image: registry host does not match region %s", pol.Region)
	case set != nil && set.Repository != "" && g[4] != set.Repository:
		return fmt.Sprintf("build metadata.image: must be in the app's own repository %s, got %s", set.Repository, g[4])
	case set != nil && set.Branch != "" && m.Branch != set.Branch:
		got := m.Branch
		if got == "" {
			got = "none recorded"
		}
		return fmt.Sprintf("build metadata.branch: must be the app's branch %q, got %s", set.Branch, got)
	case pol.MaxProcesses > 0 && len(m.Processes) > pol.MaxProcesses:
		return fmt.Sprintf("build metadata.processes: at most %d process types, got %d", pol.MaxProcesses, len(m.Processes))
	case pol.MaxSchedules > 0 && len(m.Schedules) > pol.MaxSchedules:
		return fmt.Sprintf("build metadata.schedules: at most %d schedules, got %d", pol.MaxSchedules, len(m.Schedules))
	}
	if pol.MaxCount > 0 {
		for _, name := range sortedKeys(m.Processes) {
			if n := m.Processes[name].DesiredCount(); int(n) > pol.MaxCount {
				return fmt.Sprintf("build metadata.processes.%s.count: at most %d, got %d", name, pol.MaxCount, n)
			}
		}
	}
	return ""
}
