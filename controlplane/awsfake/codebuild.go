package awsfake

import (
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"

	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	// LogGroup and LogStream name the build's CloudWatch Logs stream
	// (logs.groupName and logs.streamName of BatchGetBuilds; empty: none).
	LogGroup, LogStream string
}

type buildRecord struct{ b Build }

// PutBuild adds or replaces a build, visible to BatchGetBuilds and
// ListBuildsForProject. Its project ("<project>" of the ID) is created if
// needed.
func (s *Server) PutBuild(b Build) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.builds[b.ID]; !ok {
		s.buildList = append(s.buildList, b.ID)
	}
	s.builds[b.ID] = buildRecord{b: b}
	project, _, _ := cutProject(b.ID)
	s.projects[project] = true
}

// PutProject creates a CodeBuild project without builds (ListBuildsForProject
// of a project that does not exist is a ResourceNotFoundException).
func (s *Server) PutProject(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[name] = true
}

func newCodeBuildInput(op string) any {
	switch op {
	case "BatchGetBuilds":
		return &codebuild.BatchGetBuildsInput{}
	case "ListBuildsForProject":
		return &codebuild.ListBuildsForProjectInput{}
	case "StartBuild":
		return &codebuild.StartBuildInput{}
	}
	return nil
}

// startBuild queues a build of an existing project (CodeBuild API
// reference, StartBuild). "projectName: The name of the AWS CodeBuild
// build project to start running a build. Required: Yes"; a project that
// does not exist is a ResourceNotFoundException. The build starts
// IN_PROGRESS in phase SUBMITTED with the project's next build number
// ("The number of the build. For each project, the buildNumber of its
// first build is 1. The buildNumber of each subsequent build is
// incremented by 1"); tests finish it with PutBuild. Callers hold s.mu.
func (s *Server) startBuild(v *codebuild.StartBuildInput) ([]byte, *APIError) {
	project := ""
	if v.ProjectName != nil {
		project = *v.ProjectName
	}
	if project == "" {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: "1 validation error detected: Value at 'projectName' failed to satisfy constraint: Member must have length greater than or equal to 1"}
	}
	if !s.projects[project] {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "ResourceNotFoundException", Message: "Project cannot be found: arn:aws:codebuild:" + s.region + ":" + s.account + ":project/" + project}
	}
	var number int64 = 1
	for _, id := range s.buildList {
		if p, _, _ := cutProject(id); p == project && s.builds[id].b.Number >= number {
			number = s.builds[id].b.Number + 1
		}
	}
	b := Build{ID: project + ":" + s.requestID(), Number: number, Status: cbtypes.StatusTypeInProgress, Phase: "SUBMITTED", Start: s.now()}
	if v.SourceVersion != nil {
		b.SourceVersion = *v.SourceVersion
	}
	s.buildList = append(s.buildList, b.ID)
	s.builds[b.ID] = buildRecord{b: b}
	s.startedBuilds = append(s.startedBuilds, b.ID)
	body, err := json.Marshal(struct {
		Build wireBuild `json:"build"`
	}{Build: s.wire(b)})
	if err != nil {
		return nil, serverFault("InternalFailure", err.Error())
	}
	return body, nil
}

// StartedBuilds returns the IDs of the builds StartBuild created, in order.
func (s *Server) StartedBuilds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.startedBuilds...)
}

// Wire shapes of the CodeBuild reply (awsJson1_1; timestamps are epoch
// seconds).
type wireArtifacts struct {
	Location string `json:"location,omitempty"`
}

type wireLogs struct {
	GroupName  string `json:"groupName,omitempty"`
	StreamName string `json:"streamName,omitempty"`
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
	Logs                  *wireLogs      `json:"logs,omitempty"`
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

type wireListBuildsForProjectOutput struct {
	IDs       []string `json:"ids"`
	NextToken string   `json:"nextToken,omitempty"`
}

// listBuildsPageSize is how many IDs one ListBuildsForProject page holds.
const listBuildsPageSize = 100

// listBuildsForProject serves ListBuildsForProject: the project's build IDs
// by build number, descending unless sortOrder is ASCENDING, 100 per page.
// Like CodeBuild it refuses a sortOrder together with a nextToken and
// answers ResourceNotFoundException for a project that does not exist.
// Callers hold s.mu.
func (s *Server) listBuildsForProject(v *codebuild.ListBuildsForProjectInput) ([]byte, *APIError) {
	project := aws.ToString(v.ProjectName)
	if err := awsmodel.ValidateListBuildsForProject(v, -1); err != nil {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: err.Error()}
	}
	if v.SortOrder != "" && v.NextToken != nil {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: "Sort order can't be specified when passing a nextToken"}
	}
	if v.SortOrder != "" && v.SortOrder != cbtypes.SortOrderTypeAscending && v.SortOrder != cbtypes.SortOrderTypeDescending {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: fmt.Sprintf("Invalid sort order: %s", v.SortOrder)}
	}
	if !s.projects[project] {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "ResourceNotFoundException",
			Message: fmt.Sprintf("The provided project arn:aws:codebuild:%s:%s:project/%s does not exist", s.region, s.account, project)}
	}
	var builds []Build
	for _, id := range s.buildList {
		if p, _, _ := cutProject(id); p == project {
			builds = append(builds, s.builds[id].b)
		}
	}
	sort.SliceStable(builds, func(i, j int) bool {
		if v.SortOrder == cbtypes.SortOrderTypeAscending {
			return builds[i].Number < builds[j].Number
		}
		return builds[i].Number > builds[j].Number
	})
	start := 0
	if v.NextToken != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(aws.ToString(v.NextToken), "page-"))
		if err != nil || n < 0 || n > len(builds) {
			return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: "Invalid nextToken"}
		}
		start = n
	}
	end := min(start+listBuildsPageSize, len(builds))
	out := wireListBuildsForProjectOutput{IDs: []string{}}
	for _, b := range builds[start:end] {
		out.IDs = append(out.IDs, b.ID)
	}
	if end < len(builds) {
		out.NextToken = fmt.Sprintf("page-%d", end)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, serverFault("InternalFailure", err.Error())
	}
	return body, nil
}

// serveCodeBuild runs one CodeBuild operation. Callers hold s.mu.
func (s *Server) serveCodeBuild(op string, in any) ([]byte, *APIError) {
	if v, ok := in.(*codebuild.ListBuildsForProjectInput); ok {
		return s.listBuildsForProject(v)
	}
	if v, ok := in.(*codebuild.StartBuildInput); ok {
		return s.startBuild(v)
	}
	v, ok := in.(*codebuild.BatchGetBuildsInput)
	if !ok {
		return nil, serverFault("UnknownOperationException", "operation "+op+" is not served")
	}
	if err := awsmodel.ValidateBatchGetBuilds(v); err != nil {
		return nil, &APIError{Status: http.StatusBadRequest, Code: "InvalidInputException", Message: err.Error()}
	}
	out := wireBatchGetBuildsOutput{Builds: []wireBuild{}, BuildsNotFound: []string{}}
	for _, id := range v.Ids {
		rec, ok := s.builds[id]
		if !ok {
			out.BuildsNotFound = append(out.BuildsNotFound, id)
			continue
		}
		out.Builds = append(out.Builds, s.wire(rec.b))
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, serverFault("InternalFailure", err.Error())
	}
	return body, nil
}

// wire renders a build as BatchGetBuilds and StartBuild return it.
func (s *Server) wire(b Build) wireBuild {
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
	if b.LogGroup != "" || b.LogStream != "" {
		wb.Logs = &wireLogs{GroupName: b.LogGroup, StreamName: b.LogStream}
	}
	return wb
}

func cutProject(buildID string) (project, uuid string, ok bool) {
	for i := len(buildID) - 1; i >= 0; i-- {
		if buildID[i] == ':' {
			return buildID[:i], buildID[i+1:], true
		}
	}
	return buildID, "", false
}
