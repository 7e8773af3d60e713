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

	"github.com/wharf-paas/wharf/contract"
)

// The status document (SSM /<prefix>/apps/<app>/status) and the activity
// log events are the contract's (docs/conventions.md), written by the
// control plane.
type (
	appStatus      = contract.AppStatus
	statusOp       = contract.StatusOp
	statusDeployed = contract.StatusDeployed
	activityEvent  = contract.ActivityEvent
)

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
