package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// appStatus is the status document (docs/conventions.md, SSM parameter
// /<prefix>/apps/<app>/status), written by the control plane.
type appStatus struct {
	Version   int                      `json:"version"`
	App       string                   `json:"app"`
	Phase     string                   `json:"phase"`
	Build     int64                    `json:"build,omitempty"`
	Commit    string                   `json:"commit,omitempty"`
	Op        *statusOp                `json:"op,omitempty"`
	Reason    string                   `json:"reason,omitempty"`
	Detail    string                   `json:"detail,omitempty"`
	Deployed  *statusDeployed          `json:"deployed,omitempty"`
	Processes map[string]statusProcess `json:"processes,omitempty"`
	UpdatedAt string                   `json:"updatedAt,omitempty"`
}

type statusOp struct {
	Kind    string `json:"kind"`
	Build   int64  `json:"build,omitempty"`
	Step    string `json:"step,omitempty"`
	Since   string `json:"since,omitempty"`
	Started string `json:"started,omitempty"`
}

type statusDeployed struct {
	Build  int64  `json:"build"`
	Commit string `json:"commit,omitempty"`
	At     string `json:"at,omitempty"`
}

type statusProcess struct {
	Desired int `json:"desired"`
}

// activityEvent is one event of the activity log.
type activityEvent struct {
	Time    string `json:"time"`
	App     string `json:"app"`
	Build   int64  `json:"build"`
	Commit  string `json:"commit,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Event   string `json:"event"`
	Phase   string `json:"phase,omitempty"`
	Step    string `json:"step,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

var errNoStatus = errors.New("no status yet")

// readStatus reads the status document; errNoStatus before the control
// plane first wrote it.
func (t *target) readStatus(ctx context.Context) (*appStatus, error) {
	out, err := ssm.NewFromConfig(t.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(t.app.StatusParameter)})
	if err != nil {
		var nf *ssmtypes.ParameterNotFound
		if errors.As(err, &nf) {
			return nil, errNoStatus
		}
		return nil, awsErr("read status "+t.app.StatusParameter, err)
	}
	var st appStatus
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &st); err != nil {
		return nil, fmt.Errorf("status document %s: %w", t.app.StatusParameter, err)
	}
	return &st, nil
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}
