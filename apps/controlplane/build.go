package main

import (
	"fmt"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"

	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// Build adds the stack <prefix>-controlplane for cfg to app and returns it
// with its control plane. cfg must come from ParseConfig or LoadConfig (or
// have passed Validate); Build validates again and returns the error
// rather than letting the construct panic.
func Build(app awscdk.App, cfg *Config) (awscdk.Stack, *controlplanestack.ControlPlane, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("control plane config: %w", err)
	}
	name := contract.Names{Prefix: cfg.Prefix}.ControlPlaneStack()
	stack := awscdk.NewStack(app, jsii.String(name), &awscdk.StackProps{
		StackName:   jsii.String(name),
		Description: jsii.String("Wharf control plane (" + cfg.Prefix + "): event bus, deploy Lambda, state table"),
		Env:         &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
	})
	props := &controlplanestack.ControlPlaneProps{
		Prefix:   jsii.String(cfg.Prefix),
		Registry: cfg.Registry(),
	}
	if d := mustDuration(cfg.SweepInterval); d != 0 {
		props.SweepInterval = awscdk.Duration_Minutes(jsii.Number(d.Minutes()))
	}
	if d := mustDuration(cfg.MaxEventAge); d != 0 {
		props.MaxEventAge = awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
	}
	if d := mustDuration(cfg.Timeout); d != 0 {
		props.Timeout = awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
	}
	if r := cfg.RetryAttempts; r != nil {
		props.RetryAttempts = jsii.Number(*r)
	}
	if r := cfg.ReservedConcurrency; r != nil {
		props.ReservedConcurrency = jsii.Number(*r)
	}
	if d := cfg.LogRetentionDays; d != 0 {
		props.LogRetention, _ = logretention.Lookup(d) // validated
	}
	if cfg.AlarmTopicArn != "" {
		props.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicArn))
	}
	if cfg.TableRemovalPolicy == "destroy" {
		props.TableRemovalPolicy = awscdk.RemovalPolicy_DESTROY
	}
	cp := controlplanestack.NewControlPlane(stack, "ControlPlane", props)

	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out("EventBusArn", "Target of the customer accounts' forwarding rules", cp.EventBus.EventBusArn())
	out("TableName", "Control plane state and deploy history", cp.Table.TableName())
	out("FunctionName", "Control plane Lambda", cp.Function.FunctionName())
	out("DeadLetterQueueUrl", "Forwarded events that could not be delivered", cp.DeadLetterQueue.QueueUrl())
	out("RoleArn", "The principal the management and observer roles trust", cp.Role.RoleArn())
	return stack, cp, nil
}

// mustDuration parses a duration Validate has accepted.
func mustDuration(s string) time.Duration {
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("duration %q passed validation: %v", s, err))
	}
	return d
}
