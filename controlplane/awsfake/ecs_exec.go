package awsfake

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ECS Exec (ExecuteCommand), as the ECS API reference describes it. The
// session the fake answers with points at the stream URL set with
// SetExecStreamURL (a test's Session Manager data-channel server), or at a
// realistic ssmmessages URL nothing serves.

// ExecSession is one ExecuteCommand call the fake answered.
type ExecSession struct {
	TaskArn, Container, Command string
	SessionID, StreamURL, Token string
}

// SetExecStreamURL makes ExecuteCommand answer with streamUrl base +
// "/v1/data-channel/" + the session ID (empty: the ssmmessages URL).
func (s *Server) SetExecStreamURL(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ecs.execURL = base
}

// ExecSessions returns the sessions ExecuteCommand started, oldest first.
func (s *Server) ExecSessions() []ExecSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ExecSession(nil), s.ecs.execs...)
}

func (s *Server) executeCommand(in *ecs.ExecuteCommandInput) (*ecs.ExecuteCommandOutput, *APIError) {
	// command: "The command to run on the container." and task: "The Amazon
	// Resource Name (ARN) or ID of the task the container is part of."
	// are required members.
	if aws.ToString(in.Command) == "" {
		return nil, apiErr(InvalidParameterError("command is required."))
	}
	if aws.ToString(in.Task) == "" {
		return nil, apiErr(InvalidParameterError("task is required."))
	}
	// interactive: "Use this flag to run your command in interactive mode.
	// Amazon ECS only supports initiating interactive sessions, so you must
	// specify true for this value."
	if !in.Interactive {
		return nil, apiErr(InvalidParameterError("Interactive is the only mode supported currently."))
	}
	cname, clusterARN, e := s.resolveCluster(in.Cluster)
	if e != nil {
		return nil, e
	}
	r := s.findTask(cname, aws.ToString(in.Task))
	if r == nil {
		return nil, apiErr(InvalidParameterError("The referenced task was not found."))
	}
	// "The execute command failed because execute command was not enabled
	// when the task was run or the execute command agent isn't running.
	// Wait and try the request again." (the ECS Exec troubleshooting
	// guide's message for both causes). The fake's agent runs exactly
	// while the task is RUNNING.
	if !r.task.EnableExecuteCommand || aws.ToString(r.task.LastStatus) != TaskRunning {
		return nil, apiErr(InvalidParameterError("The execute command failed because execute command was not enabled when the task was run or the execute command agent isn't running. Wait and try the request again."))
	}
	// container: "The name of the container to execute the command on. A
	// container name only needs to be specified for tasks containing
	// multiple containers."
	var c *types.Container
	for i := range r.task.Containers {
		if in.Container == nil || aws.ToString(r.task.Containers[i].Name) == aws.ToString(in.Container) {
			c = &r.task.Containers[i]
			break
		}
	}
	if c == nil || (in.Container == nil && len(r.task.Containers) > 1) {
		return nil, apiErr(InvalidParameterError("The container name is required for a task with more than one container, and must name one of its containers."))
	}
	id := fmt.Sprintf("ecs-execute-command-%016x", s.nextSeq()*104729+0xe8ec)
	base := s.ecs.execURL
	if base == "" {
		base = fmt.Sprintf("wss://ssmmessages.%s.amazonaws.com", s.region)
	}
	sess := ExecSession{TaskArn: aws.ToString(r.task.TaskArn), Container: aws.ToString(c.Name), Command: aws.ToString(in.Command),
		SessionID: id, StreamURL: base + "/v1/data-channel/" + id + "?role=publish_subscribe&cell-number=AAEAAQ", Token: "token-" + id}
	s.ecs.execs = append(s.ecs.execs, sess)
	return &ecs.ExecuteCommandOutput{
		ClusterArn: aws.String(clusterARN), ContainerArn: c.ContainerArn, ContainerName: c.Name, Interactive: true,
		TaskArn: r.task.TaskArn,
		Session: &types.Session{SessionId: aws.String(sess.SessionID), StreamUrl: aws.String(sess.StreamURL), TokenValue: aws.String(sess.Token)},
	}, nil
}
