// Package controlplanestack is the CDK construct of Wharf's control plane:
// the event bus customer accounts forward their CodeBuild, ECS and Parameter
// Store events to, the Lambda that turns them into deploys, its DynamoDB
// state table, its sweep schedule, its dead-letter queue and its alarms, and
// the Lambda layer that ships the registry to the Lambda as a file.
//
// The package lives in constructs/controlplane but is named
// controlplanestack, so that it does not clash with the logic package
// github.com/wharf-paas/wharf/controlplane it configures; Registry and its
// parts are re-exported here so a CDK app needs only this import.
//
// The construct is normally the only content of the stack
// <prefix>-controlplane, deployed in its own AWS account (see
// apps/controlplane). Its registry decides which accounts may send events
// and which roles the Lambda may assume; registering an account or an app
// is a redeploy.
package controlplanestack

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wharf-paas/wharf/constructs/internal/lambdabuild"
	"github.com/wharf-paas/wharf/contract"
)

// Environment variables the construct sets on the control plane Lambda.
const (
	// EnvTable holds the DynamoDB table name.
	EnvTable = "WHARF_TABLE"
	// EnvPrefix holds the Wharf resource prefix.
	EnvPrefix = "WHARF_PREFIX"
	// EnvRegistryFile holds the path of the registry file (RegistryFilePath),
	// compact JSON (contract.Registry) shipped in the registry layer.
	EnvRegistryFile = "WHARF_REGISTRY_FILE"
	// EnvAccountID holds the control plane's own account ID: the Lambda
	// starts a sweep only for a Scheduled Event from this account.
	EnvAccountID = "WHARF_ACCOUNT_ID"
)

// EnvRegistry is the variable the Lambda falls back to when EnvRegistryFile
// is not set: the registry JSON itself. The construct does not set it (its
// 4 KB environment limit would cap a control plane at about 15 apps); it is
// for tests and local runs of the Lambda.
const EnvRegistry = "WHARF_REGISTRY"

// Table key design. The logic package owns the item layout
// (controlplane.DynamoStore); the construct creates the table from the
// same constants, so the two cannot disagree. See docs/controlplane.md,
// "Deploying the control plane".
const (
	// TablePartitionKey is the name of the table's partition key (S).
	TablePartitionKey = contract.StateTablePartitionKey
	// TableSortKey is the name of the table's sort key (S).
	TableSortKey = contract.StateTableSortKey
	// TableTTLAttribute is the TTL attribute: a Unix time in seconds after
	// which DynamoDB deletes the item (processed-event records).
	TableTTLAttribute = contract.StateTableTTLAttribute
)

// The sweep event: the sweep rule sends the Lambda a Scheduled Event whose
// id and time are the real event's (so every sweep is a distinct event) and
// whose detail is SweepDetail.
const (
	// SweepSource is the sweep event's source.
	SweepSource = "aws.events"
	// SweepDetailType is the sweep event's detail-type.
	SweepDetailType = "Scheduled Event"
)

// SweepDetail is the constant detail of the sweep event: {"wharf":"sweep"}.
var SweepDetail = map[string]string{"wharf": "sweep"}

// ForwardedSources are the event sources the control plane's rule accepts;
// the customer accounts' forwarding rules send events of these sources.
var ForwardedSources = contract.ForwardedSources()

// ForwardedDetailTypes are the detail-types the control plane's rule
// accepts; any other forwarded event is dropped by the rule without
// invoking the Lambda.
var ForwardedDetailTypes = contract.ForwardedDetailTypes()

// Defaults of ControlPlaneProps.
const (
	// DefaultPrefix is the resource prefix when Prefix is nil.
	DefaultPrefix = contract.DefaultPrefix
	// DefaultSweepMinutes is the sweep interval when SweepInterval is nil.
	DefaultSweepMinutes = 1
	// DefaultRetryAttempts is the EventBridge retry count when RetryAttempts
	// is nil.
	DefaultRetryAttempts = 10
	// DefaultMaxEventAgeMinutes is the maximum event age when MaxEventAge is
	// nil.
	DefaultMaxEventAgeMinutes = 60
	// DefaultTimeoutSeconds is the Lambda timeout when Timeout is nil.
	DefaultTimeoutSeconds = 120
	// MemoryMiB is the Lambda's memory size.
	MemoryMiB = 256
)

// ControlPlaneProps configures a ControlPlane.
type ControlPlaneProps struct {
	// Prefix is the Wharf resource prefix: the bus is <prefix>-controlplane
	// and the Lambda may assume only <prefix>-... roles.
	// Default: "wharf".
	Prefix *string
	// Registry lists the customer accounts the bus accepts events from and
	// the apps the control plane deploys. Required, with at least one
	// account; validated at synth (see ValidateRegistry). Its Prefix may be
	// empty (it is set to Prefix) or equal to Prefix.
	Registry *Registry
	// Code is the Lambda code.
	// Default: lambda/controlplane built for provided.al2023 arm64 at synth.
	Code awslambda.Code
	// SweepInterval is how often the sweep event re-observes apps stuck in a
	// step; whole minutes, at least one.
	// Default: 1 minute.
	SweepInterval awscdk.Duration
	// RetryAttempts is how often EventBridge retries delivering a forwarded
	// event to the Lambda (0–185) before sending it to the dead-letter queue.
	// Default: 10.
	RetryAttempts *float64
	// MaxEventAge is how long EventBridge, and Lambda's asynchronous
	// invocation queue, keep trying an event (1 minute to 6 hours).
	// Default: 1 hour.
	MaxEventAge awscdk.Duration
	// Timeout is the Lambda timeout (at most 15 minutes).
	// Default: 2 minutes.
	Timeout awscdk.Duration
	// ReservedConcurrency reserves (and caps) the Lambda's concurrency.
	// Default: none. Correctness does not depend on it (app state is
	// written with conditional writes), and a reservation fails to deploy
	// in accounts whose concurrency quota is still the new-account 10.
	ReservedConcurrency *float64
	// AlarmTopic receives the alarms' ALARM and OK notifications.
	// Default: the alarms have no actions.
	AlarmTopic awssns.ITopic
	// LogRetention is the retention of the Lambda's log group.
	// Default: three months.
	LogRetention awslogs.RetentionDays
	// TableRemovalPolicy applies to the state table. Deletion protection is
	// on unless it is DESTROY.
	// Default: RETAIN.
	TableRemovalPolicy awscdk.RemovalPolicy
}

// ControlPlane is the Wharf control plane: bus, rule, Lambda, table, sweep,
// dead-letter queue and alarms.
type ControlPlane struct {
	constructs.Construct
	// EventBus is the bus <prefix>-controlplane the customer accounts'
	// forwarding rules target.
	EventBus awsevents.EventBus
	// Rule routes forwarded events from the bus to the Lambda.
	Rule awsevents.Rule
	// SweepRule sends the sweep event to the Lambda on the default bus.
	SweepRule awsevents.Rule
	// Table is the control plane's state table.
	Table awsdynamodb.Table
	// Function is the control plane Lambda.
	Function awslambda.Function
	// RegistryLayer is the Lambda layer holding the registry file
	// (RegistryLayerFile, found by the Lambda at RegistryFilePath). It is
	// the function's only layer.
	RegistryLayer awslambda.LayerVersion
	// LogGroup is the Lambda's log group.
	LogGroup awslogs.LogGroup
	// DeadLetterQueue receives forwarded events EventBridge could not deliver
	// to the Lambda.
	DeadLetterQueue awssqs.Queue
	// Role is the Lambda's execution role.
	Role awsiam.Role
	// ErrorsAlarm fires when the Lambda reports an error.
	ErrorsAlarm awscloudwatch.Alarm
	// ThrottlesAlarm fires when the Lambda is throttled.
	ThrottlesAlarm awscloudwatch.Alarm
	// DeadLetterAlarm fires when the dead-letter queue holds a message.
	DeadLetterAlarm awscloudwatch.Alarm
	// Prefix is the resolved resource prefix.
	Prefix string
	// RegistryJSON is the content of the registry file in RegistryLayer.
	RegistryJSON string
}

// EventBusName returns the name of the control plane bus for prefix.
func EventBusName(prefix string) string { return contract.Names{Prefix: prefix}.EventBus() }

// PrebuildLambda starts compiling the default control-plane Lambda
// (./lambda/controlplane) in the background, so that the build overlaps
// whatever the app does before NewControlPlane (starting the CDK's jsii
// kernel takes seconds); NewControlPlane then waits for it. Optional.
// Built binaries are cached by their inputs, so an unchanged function is
// not linked again.
func PrebuildLambda() { lambdabuild.Prebuild("controlplane") }

// NewControlPlane creates the control plane. It panics with a message naming
// the field when props are invalid (see Validate).
func NewControlPlane(scope constructs.Construct, id string, props *ControlPlaneProps) *ControlPlane {
	if props == nil {
		props = &ControlPlaneProps{}
	}
	prefix := DefaultPrefix
	if props.Prefix != nil {
		prefix = *props.Prefix
	}
	if err := props.Validate(); err != nil {
		panic(fmt.Sprintf("controlplane %s: %v", id, err))
	}
	reg := *props.Registry
	regJSON, err := RegistryJSON(prefix, reg)
	if err != nil {
		panic(fmt.Sprintf("controlplane %s: %v", id, err))
	}
	regDir, err := registryLayerDir(regJSON)
	if err != nil {
		panic(fmt.Sprintf("controlplane %s: %v", id, err))
	}

	c := constructs.NewConstruct(scope, &id)
	cp := &ControlPlane{Construct: c, Prefix: prefix, RegistryJSON: regJSON}
	partition := awscdk.Aws_PARTITION()

	// State. Stateful resources sit directly under the construct with fixed
	// IDs; tests pin their logical IDs.
	removal := awscdk.RemovalPolicy_RETAIN
	if props.TableRemovalPolicy != "" {
		removal = props.TableRemovalPolicy
	}
	cp.Table = awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(TablePartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(TableSortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(TableTTLAttribute),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		DeletionProtection:  jsii.Bool(removal != awscdk.RemovalPolicy_DESTROY),
		RemovalPolicy:       removal,
	})

	cp.DeadLetterQueue = awssqs.NewQueue(c, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(cp.DeadLetterQueue, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("this queue is itself the dead-letter queue of the control plane's EventBridge target; a DLQ of a DLQ would only hide failures the DLQ alarm reports"),
	}}, jsii.Bool(false))

	retention := awslogs.RetentionDays_THREE_MONTHS
	if props.LogRetention != "" {
		retention = props.LogRetention
	}
	cp.LogGroup = awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	// The execution role: no managed policies, three statements.
	cp.Role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		// A fixed name: management and observer roles trust exactly this
		// role (aws:PrincipalArn), not the whole account.
		RoleName:    jsii.String(contract.Names{Prefix: prefix}.ControlPlaneRole()),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Wharf control plane (" + prefix + "): assumes Wharf management and observer roles in registered accounts and uses its own table"),
	})
	// The account part of each ARN is the explicit list of registered
	// accounts: a customer account becomes reachable only by registering it
	// and redeploying, so a role with a Wharf name in some other account can
	// never be assumed even if it trusts this account. The app part is a
	// pattern: listing one ARN per app would make the policy grow with every
	// app towards IAM's 10,240-character limit, while the account boundary is
	// what matters for security; the Lambda still acts only on apps in the
	// registry, and each management role demands its own external ID. App
	// names contain no "_" and the pattern is anchored on "-management", so
	// it matches only Wharf management roles of this prefix.
	var assumable []*string
	for _, acct := range sortedAccounts(reg) {
		names := contract.Names{Prefix: prefix}
		assumable = append(assumable,
			jsii.String(names.ManagementRoleARN(*partition, acct, "*")),
			jsii.String(names.ObserverRoleARN(*partition, acct)))
	}
	cp.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeWharfRoles"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: &assumable,
	}))
	cp.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UseStateTable"),
		Actions:   jsii.Strings(TableActions...),
		Resources: jsii.Strings(*cp.Table.TableArn()),
	}))
	cp.Role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*cp.LogGroup.LogGroupArn()),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(cp.Role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("sts:AssumeRole on <prefix>-app-*-management in each registered account only: the app part is a pattern so the policy does not grow per app; " +
			"the account list is explicit and each role requires its external ID"),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{
			Regex: jsii.String("/^Resource::arn:<AWS::Partition>:iam::[0-9]{12}:role\\/" + regexp.QuoteMeta(prefix) + "-app-\\*-management$/"),
		}},
	}}, jsii.Bool(true))

	timeout := awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds))
	if props.Timeout != nil {
		timeout = props.Timeout
	}
	maxAge := awscdk.Duration_Minutes(jsii.Number(DefaultMaxEventAgeMinutes))
	if props.MaxEventAge != nil {
		maxAge = props.MaxEventAge
	}
	retries := float64(DefaultRetryAttempts)
	if props.RetryAttempts != nil {
		retries = *props.RetryAttempts
	}
	code := props.Code
	if code == nil {
		code = lambdabuild.Code("controlplane")
	}
	// The registry ships as a file in a layer, not in the environment
	// (Lambda's 4 KB limit for all variables would cap the registry at about
	// 15 apps). The layer is independent of the function's code, so it works
	// with props.Code too; its asset hash changes only with the registry.
	cp.RegistryLayer = awslambda.NewLayerVersion(c, jsii.String("Registry"), &awslambda.LayerVersionProps{
		Code:                    awslambda.Code_FromAsset(jsii.String(regDir), nil),
		CompatibleArchitectures: &[]awslambda.Architecture{lambdabuild.Architecture()},
		CompatibleRuntimes:      &[]awslambda.Runtime{lambdabuild.Runtime()},
		Description: jsii.String(fmt.Sprintf("Wharf control plane (%s) registry (accounts: %d, apps: %d) at %s",
			prefix, len(reg.Accounts), len(reg.Apps), RegistryFilePath)),
	})
	cp.Function = awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("Wharf control plane (" + prefix + ")"),
		Runtime:      lambdabuild.Runtime(),
		Architecture: lambdabuild.Architecture(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		Role:         cp.Role,
		MemorySize:   jsii.Number(MemoryMiB),
		Timeout:      timeout,
		Layers:       &[]awslambda.ILayerVersion{cp.RegistryLayer},
		Environment: &map[string]*string{
			EnvTable:        cp.Table.TableName(),
			EnvPrefix:       jsii.String(prefix),
			EnvRegistryFile: jsii.String(RegistryFilePath),
			// The sweep is accepted only from the control plane's own
			// account (the sweep rule's events carry it).
			EnvAccountID: awscdk.Aws_ACCOUNT_ID(),
		},
		LogGroup:                     cp.LogGroup,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		ReservedConcurrentExecutions: props.ReservedConcurrency,
		// Asynchronous invocation (EventBridge invokes asynchronously):
		// Lambda retries a failed invocation twice, within the same age
		// limit; an event that still fails is dropped and counted by the
		// Errors alarm, and the sweep reconciles the app it concerned.
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   maxAge,
	})

	// Events from the customer accounts.
	cp.EventBus = awsevents.NewEventBus(c, jsii.String("EventBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(EventBusName(prefix)),
		Description:  jsii.String("Wharf control plane (" + prefix + "): CodeBuild, ECS and Parameter Store events forwarded by registered accounts"),
	})
	principals := make([]awsiam.IPrincipal, 0, len(reg.Accounts))
	for _, acct := range sortedAccounts(reg) {
		principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(acct)))
	}
	// One statement for all accounts keeps the policy far under its 10 KB
	// limit. Principal arn:...:root admits the account (its forwarding rule's
	// role), as PutPermission does for one account. The source condition
	// admits only the AWS sources the rule forwards; EventBridge refuses
	// PutEvents calls that claim an aws.* source, so these can only be
	// events AWS emitted.
	cp.EventBus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("RegisteredAccountsPutEvents"),
		Principals: &principals,
		Actions:    jsii.Strings("events:PutEvents"),
		Resources:  jsii.Strings(*cp.EventBus.EventBusArn()),
		Conditions: &map[string]interface{}{
			"ForAllValues:StringEquals": map[string]interface{}{"events:source": ForwardedSources},
		},
	}))

	cp.Rule = awsevents.NewRule(c, jsii.String("Rule"), &awsevents.RuleProps{
		EventBus:    cp.EventBus,
		Description: jsii.String("Forwarded CodeBuild, ECS and Parameter Store events of registered accounts to the control plane Lambda"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(ForwardedSources...),
			DetailType: jsii.Strings(ForwardedDetailTypes...),
			Account:    jsii.Strings(sortedAccounts(reg)...),
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(cp.Function, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: cp.DeadLetterQueue,
			RetryAttempts:   jsii.Number(retries),
			MaxEventAge:     maxAge,
		})},
	})

	interval := awscdk.Duration_Minutes(jsii.Number(DefaultSweepMinutes))
	if props.SweepInterval != nil {
		interval = props.SweepInterval
	}
	sweep := map[string]interface{}{
		"version":     "0",
		"id":          awsevents.EventField_EventId(),
		"detail-type": SweepDetailType,
		"source":      SweepSource,
		"account":     awsevents.EventField_Account(),
		"time":        awsevents.EventField_Time(),
		"region":      awsevents.EventField_Region(),
		"resources":   []interface{}{},
		"detail":      SweepDetail,
	}
	cp.SweepRule = awsevents.NewRule(c, jsii.String("Sweep"), &awsevents.RuleProps{
		Description: jsii.String("Wharf control plane (" + prefix + ") sweep: re-observes apps stuck in a step"),
		Schedule:    awsevents.Schedule_Rate(interval),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(cp.Function, &awseventstargets.LambdaFunctionProps{
			Event: awsevents.RuleTargetInput_FromObject(sweep),
			// A missed sweep is made up by the next one.
			RetryAttempts: jsii.Number(0),
			MaxEventAge:   awscdk.Duration_Minutes(jsii.Number(1)),
		})},
	})

	period := awscdk.Duration_Minutes(jsii.Number(5))
	cp.ErrorsAlarm = awscloudwatch.NewAlarm(c, jsii.String("ErrorsAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Wharf control plane (" + prefix + "): the Lambda failed an invocation; see its log group"),
		Metric: cp.Function.MetricErrors(&awscloudwatch.MetricOptions{
			Period: period, Statistic: jsii.String("Sum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	cp.ThrottlesAlarm = awscloudwatch.NewAlarm(c, jsii.String("ThrottlesAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Wharf control plane (" + prefix + "): the Lambda was throttled"),
		Metric: cp.Function.MetricThrottles(&awscloudwatch.MetricOptions{
			Period: period, Statistic: jsii.String("Sum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	cp.DeadLetterAlarm = awscloudwatch.NewAlarm(c, jsii.String("DeadLetterAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("Wharf control plane (" + prefix + "): forwarded events could not be delivered to the Lambda; inspect the dead-letter queue"),
		Metric: cp.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: period, Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	if props.AlarmTopic != nil {
		action := awscloudwatchactions.NewSnsAction(props.AlarmTopic)
		for _, a := range []awscloudwatch.Alarm{cp.ErrorsAlarm, cp.ThrottlesAlarm, cp.DeadLetterAlarm} {
			a.AddAlarmAction(action)
			a.AddOkAction(action)
		}
	}
	return cp
}

// TableActions are the DynamoDB actions the Lambda may perform, on its own
// table only: item reads and writes and Query; no Scan, no batch
// operations, no index, no stream, no table management. The store
// (controlplane.DynamoStore) uses GetItem, PutItem, Query and
// TransactWriteItems of conditional Puts, which DynamoDB authorises as the
// item actions they contain; UpdateItem, DeleteItem and ConditionCheckItem
// leave it room to use conditional updates without widening the grant.
var TableActions = []string{
	"dynamodb:GetItem",
	"dynamodb:Query",
	"dynamodb:PutItem",
	"dynamodb:UpdateItem",
	"dynamodb:DeleteItem",
	"dynamodb:ConditionCheckItem",
}

// Validate checks props without building anything; NewControlPlane panics
// with the same message. Every message names the field.
func (p *ControlPlaneProps) Validate() error {
	prefix := DefaultPrefix
	if p.Prefix != nil {
		prefix = *p.Prefix
	}
	if err := contract.ValidatePrefix(prefix); err != nil {
		return err
	}
	if p.Registry == nil {
		return fmt.Errorf("registry: required (the accounts and apps the control plane serves)")
	}
	if err := ValidateRegistry(prefix, *p.Registry); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	var errs []string
	if d := p.SweepInterval; d != nil && !*d.IsUnresolved() {
		s := *d.ToSeconds(nil)
		if s < 60 || int64(s)%60 != 0 {
			errs = append(errs, fmt.Sprintf("sweepInterval: %v seconds must be a whole number of minutes, at least 1", s))
		}
	}
	if r := p.RetryAttempts; r != nil && (*r < 0 || *r > 185 || *r != float64(int64(*r))) {
		errs = append(errs, fmt.Sprintf("retryAttempts: %v must be a whole number from 0 to 185", *r))
	}
	if d := p.MaxEventAge; d != nil && !*d.IsUnresolved() {
		if s := *d.ToSeconds(nil); s < 60 || s > 6*3600 {
			errs = append(errs, fmt.Sprintf("maxEventAge: %v seconds must be from 60 to 21600 (1 minute to 6 hours)", s))
		}
	}
	if d := p.Timeout; d != nil && !*d.IsUnresolved() {
		if s := *d.ToSeconds(nil); s < 1 || s > 900 {
			errs = append(errs, fmt.Sprintf("timeout: %v seconds must be from 1 to 900", s))
		}
	}
	if r := p.ReservedConcurrency; r != nil && (*r < 1 || *r != float64(int64(*r))) {
		errs = append(errs, fmt.Sprintf("reservedConcurrency: %v must be a whole number of at least 1", *r))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func sortedAccounts(r Registry) []string {
	ids := make([]string, 0, len(r.Accounts))
	for _, a := range r.Accounts {
		ids = append(ids, a.AccountID)
	}
	// Stable order keeps the template stable when the registry is reordered.
	sort.Strings(ids)
	return ids
}
