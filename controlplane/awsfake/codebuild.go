package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

// Build is a CodeBuild build as the fake stores it. Only the fields the
// control plane reads are modelled.
type Build struct {
	// ID is "<project>:<uuid>".
	ID string
	// Number is the project's build number.
	Number int64
	// Status is SUCCEEDED, FAILED, FAULT, TIMED_OUT, IN_PROGRESS or STOPPED.
	Status cbtypes.StatusType
	// Phase is the current phase (default COMPLETED unless IN_PROGRESS).
	Phase string
	// ArtifactsLocation is "arn:aws:s3:::<bucket>/<path>" ("" for none).
	ArtifactsLocation string
	// SourceVersion is the commit the build was asked for.
	SourceVersion string
	// ResolvedSourceVersion is the commit the build used.
	ResolvedSourceVersion string
	// Start and End are the build's times (zero End: not finished).
	Start, End time.Time
}

type buildRecord struct{ b Build }

// PutBuild adds or replaces a build, visible to BatchGetBuilds.
func (s *Server) PutBuild(b Build) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.builds[b.ID]; !ok {
		s.buildList = append(s.buildList, b.ID)
	}
	s.builds[b.ID] = buildRecord{b: b}
}

func newCodeBuildInput(op string) any {
	if op == "BatchGetBuilds" {
		return &codebuild.BatchGetBuildsInput{}
	}
	return nil
}

// Wire shapes of the CodeBuild reply (awsJson1_1; timestamps are epoch
// seconds).
type wireArtifacts struct {
	Location string `json:"location,omitempty"`
}

type wireBuild struct {
	ID                    string         `json:"id"`
	Arn                   string         `json:"arn"`
	BuildNumber           int64          `json:"buildNumber"`
	StartTime             *float64       `json:"startTime,omitempty"`
	EndTime               *float64       `json:"endTime,omitempty"`
	CurrentPhase          string         `json:"currentPhase,omitempty"`
	BuildStatus           string         `json:"buildStatus"`
	SourceVersion         string         `json:"sourceVersion,omitempty"`
	ResolvedSourceVersion string         `json:"resolvedSourceVersion,omitempty"`
	ProjectName           string         `json:"projectName"`
	BuildComplete         bool           `json:"buildComplete"`
	Initiator             string         `json:"initiator,omitempty"`
	Artifacts             *wireArtifacts `json:"artifacts,omitempty"`
}

type wireBatchGetBuildsOutput struct {
	Builds         []wireBuild `json:"builds"`
	BuildsNotFound []string    `json:"buildsNotFound"`
}

func epoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := float64(t.UnixMilli()) / 1000
	return &v
}

// serveCodeBuild runs one CodeBuild operation. Callers hold s.mu.
func (s *Server) serveCodeBuild(op string, in any) ([]byte, *APIError) {
	v, ok := in.(*codebuild.BatchGetBuildsInput)
	if !ok {
		return nil, serverFault("UnknownOperationException", "operation "+op+" is not served")
	}
	if len(v.Ids) == 0 || len(v.Ids) > 100 {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: "ids must contain between 1 and 100 build IDs"}
	}
	out := wireBatchGetBuildsOutput{Builds: []wireBuild{}, BuildsNotFound: []string{}}
	for _, id := range v.Ids {
		rec, ok := s.builds[id]
		if !ok {
			out.BuildsNotFound = append(out.BuildsNotFound, id)
			continue
		}
		b := rec.b
		project, _, _ := cutProject(b.ID)
		phase := b.Phase
		if phase == "" {
			phase = "COMPLETED"
			if b.Status == cbtypes.StatusTypeInProgress {
				phase = "BUILD"
			}
		}
		wb := wireBuild{
			ID:                    b.ID,
			Arn:                   fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s", s.region, s.account, b.ID),
			BuildNumber:           b.Number,
			StartTime:             epoch(b.Start),
			EndTime:               epoch(b.End),
			CurrentPhase:          phase,
			BuildStatus:           string(b.Status),
			SourceVersion:         b.SourceVersion,
			ResolvedSourceVersion: b.ResolvedSourceVersion,
			ProjectName:           project,
			BuildComplete:         b.Status != cbtypes.StatusTypeInProgress,
			Initiator:             "GitHub-Hookshot/awsfake",
		}
		if b.ArtifactsLocation != "" {
			wb.Artifacts = &wireArtifacts{Location: b.ArtifactsLocation}
		}
		out.Builds = append(out.Builds, wb)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, serverFault("InternalFailure", err.Error())
	}
	return body, nil
}

func cutProject(buildID string) (project, uuid string, ok bool) {
	for i := len(buildID) - 1; i >= 0; i-- {
		if buildID[i] == ':' {
			return buildID[:i], buildID[i+1:], true
		}
	}
	return buildID, "", false
}
