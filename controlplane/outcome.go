package controlplane

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/wharf-paas/wharf/contract"
)

// releaseOutcome judges a STOPPED release task.
func releaseOutcome(t *ecstypes.Task) (bool, Reason, string) {
	var c *ecstypes.Container
	for i := range t.Containers {
		if aws.ToString(t.Containers[i].Name) == contract.ContainerName {
			c = &t.Containers[i]
		}
	}
	stopped := strings.TrimSpace(aws.ToString(t.StoppedReason))
	if t.StopCode == ecstypes.TaskStopCodeTaskFailedToStart {
		detail := "release task failed to start"
		if stopped != "" {
			detail += ": " + stopped
		}
		if c != nil && aws.ToString(c.Reason) != "" {
			detail += " (" + aws.ToString(c.Reason) + ")"
		}
		return false, ReasonReleaseFailedToStart, detail
	}
	if c == nil || c.ExitCode == nil {
		detail := "release container did not exit"
		if stopped != "" {
			detail += ": " + stopped
		}
		return false, ReasonReleaseFailed, detail
	}
	if t.StopCode != ecstypes.TaskStopCodeEssentialContainerExited {
		return false, ReasonReleaseFailed, fmt.Sprintf("release task stopped with %s: %s", t.StopCode, stopped)
	}
	if code := aws.ToInt32(c.ExitCode); code != 0 {
		return false, ReasonReleaseFailed, fmt.Sprintf("release command exited with code %d", code)
	}
	return true, "", ""
}

func primaryTaskDef(s *ecstypes.Service) string {
	if d := primary(s); d != nil {
		return aws.ToString(d.TaskDefinition)
	}
	return aws.ToString(s.TaskDefinition)
}

func revisionLabel(arn string) string {
	if f := familyFromTaskDefARN(arn); f != "" {
		return f + ":" + strconv.Itoa(revisionFromTaskDefARN(arn))
	}
	return arn
}
