package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/wharf-paas/wharf/contract"
)

// maxDiscoveredBuilds bounds the builds one listing starts tracking, so the
// state write that follows (with the deploy records they may resolve into)
// stays far below DynamoDB's 100 items per transaction.
const maxDiscoveredBuilds = 20

// discoverBuilds makes up for builds whose every event was lost. It lists
// the newest builds of the app's CodeBuild project (one
// ListBuildsForProject, first page, newest first) down to the first build
// the state stands on (the last listing's newest build, the deployed build
// or the operation's), asks BatchGetBuilds about the IDs the state has never
// heard of (one call, none when there are none), and tracks those newer
// than the newest attempt exactly as their Build State Change would have:
// observeBuilds and the steps then apply the usual rules (newest build wins,
// one operation at a time, an older build never replaces a newer one). Of
// the unknown builds it tracks the newest ones down to the newest
// successful one (older ones could only be superseded by it), at most
// maxDiscoveredBuilds. It reports whether it tracked a build. An app with
// nothing new costs the one listing and no write.
func (r *run) discoverBuilds(ctx context.Context) (bool, error) {
	st := r.st
	// The naming contract's project, which events are routed by; the
	// settings say it too.
	project := contract.Names{Prefix: r.c.reg.Prefix}.CodeBuildProject(r.reg.Name)
	set, err := r.settings(ctx)
	if err != nil {
		var pe *permanentError
		if !errors.As(err, &pe) {
			return false, err
		}
	} else if set.CodeBuildProject != "" {
		project = set.CodeBuildProject
	}
	r.awsTouched = true
	// DESCENDING is CodeBuild's default too; it may only be set on the
	// first page (with a nextToken it is an InvalidInputException), and
	// only the first page is read.
	out, err := r.cl.CodeBuild.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{
		ProjectName: aws.String(project), SortOrder: cbtypes.SortOrderTypeDescending,
	})
	if err != nil {
		switch apiCode(err) {
		case "ResourceNotFoundException":
			r.log.Debug("the app's CodeBuild project does not exist (yet); no builds to find", "project", project)
			return false, nil
		case "AccessDeniedException":
			// An app stack deployed before its management role could
			// list builds: everything else works, lost builds wait
			// for an event.
			r.log.Warn("the management role may not list the project's builds; redeploy the app stack", "project", project)
			return false, nil
		}
		return false, fmt.Errorf("codebuild ListBuildsForProject %s: %w", project, err)
	}
	stop := map[string]bool{}
	for _, id := range []string{st.ListedBuild, deployedBuildID(st), opBuildID(st)} {
		if id != "" {
			stop[id] = true
		}
	}
	known := map[string]bool{}
	for _, id := range st.Known {
		known[id] = true
	}
	for _, b := range st.Builds {
		known[b.ID] = true
	}
	var unknown []string
	for _, id := range out.Ids {
		id = buildIDFromARN(id)
		if stop[id] {
			break
		}
		if !known[id] && strings.HasPrefix(id, project+":") {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 {
		return false, nil
	}
	obs, _, err := r.batchGetBuilds(ctx, unknown)
	if err != nil {
		return false, err
	}
	// Everything down to the newest listed build has now been looked at;
	// the next listing stops there.
	st.ListedBuild = buildIDFromARN(out.Ids[0])
	r.dirty = true
	if r.obs.Builds == nil {
		r.obs.Builds = map[string]buildObservation{}
	}
	var found []TrackedBuild
	for _, id := range unknown {
		if o, ok := obs[id]; ok && o.Number > st.HighWater {
			found = append(found, TrackedBuild{ID: id, Number: o.Number, Status: o.Status,
				Location: o.Location, Commit: o.Commit, SeenAt: r.now, Listed: true})
		}
		if o, ok := obs[id]; ok {
			r.obs.Builds[id] = o
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Number > found[j].Number })
	tracked := 0
	for i, b := range found {
		if i < maxDiscoveredBuilds-1 || b.Status == "SUCCEEDED" {
			if r.track(b) {
				tracked++
				r.log.Info("build found by the sweep (its events were lost)", "build", b.Number, "build_id", b.ID, "status", b.Status)
			}
		}
		if b.Status == "SUCCEEDED" {
			break
		}
	}
	return tracked > 0, nil
}

func deployedBuildID(st *AppState) string {
	if st.Deployed == nil {
		return ""
	}
	return st.Deployed.BuildID
}

func opBuildID(st *AppState) string {
	if st.Op == nil {
		return ""
	}
	return st.Op.BuildID
}
