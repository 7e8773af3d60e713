package controlplane

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestJudgeRollout(t *testing.T) {
	const old, want = "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:1", "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:2"
	dep := func(id, status, td string, rs ecstypes.DeploymentRolloutState) ecstypes.Deployment {
		return ecstypes.Deployment{Id: aws.String(id), Status: aws.String(status), TaskDefinition: aws.String(td), RolloutState: rs,
			DesiredCount: 1, RunningCount: 1}
	}
	svc := func(deps ...ecstypes.Deployment) *ecstypes.Service {
		return &ecstypes.Service{ServiceName: aws.String("wharf-api_web"), Deployments: deps}
	}
	for _, tc := range []struct {
		name  string
		s     *ecstypes.Service
		ours  string
		prior []string
		want  rolloutState
	}{
		{"stale read: only the prior deployment, PRIMARY and completed", svc(dep("d1", "PRIMARY", old, "COMPLETED")), "d2", []string{"d1"}, rolloutPending},
		{"ours in progress", svc(dep("d2", "PRIMARY", want, "IN_PROGRESS"), dep("d1", "ACTIVE", old, "COMPLETED")), "d2", []string{"d1"}, rolloutPending},
		{"ours completed", svc(dep("d2", "PRIMARY", want, "COMPLETED")), "d2", []string{"d1"}, rolloutDone},
		{"ours failed, nothing replaced it", svc(dep("d2", "PRIMARY", want, "FAILED")), "d2", nil, rolloutFailed},
		{"circuit breaker rolled back, ours still listed", svc(dep("d3", "PRIMARY", old, "IN_PROGRESS"), dep("d2", "ACTIVE", want, "FAILED")), "d2", []string{"d1"}, rolloutRolledBack},
		{"circuit breaker rolled back, ours gone", svc(dep("d3", "PRIMARY", old, "COMPLETED")), "d2", []string{"d1"}, rolloutRolledBack},
		{"count-only update: ours is the deployment that was there", svc(dep("d1", "PRIMARY", want, "COMPLETED")), "d1", nil, rolloutDone},
		{"legacy state without an ID: another PRIMARY is pending", svc(dep("d1", "PRIMARY", old, "COMPLETED")), "", nil, rolloutPending},
		{"legacy state without an ID: ours completed", svc(dep("d2", "PRIMARY", want, "COMPLETED")), "", nil, rolloutDone},
		{"no rollout state, steady", svc(dep("d2", "PRIMARY", want, "")), "d2", nil, rolloutDone},
		{"no rollout state, old one still draining", svc(dep("d2", "PRIMARY", want, ""), dep("d1", "ACTIVE", old, "")), "d2", []string{"d1"}, rolloutPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, detail := judgeRollout(tc.s, want, tc.ours, tc.prior)
			if got != tc.want {
				t.Fatalf("judgeRollout = %d (%s), want %d", got, detail, tc.want)
			}
		})
	}
}
