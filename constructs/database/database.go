// Package database provides the Wharf Database construct: an Aurora
// PostgreSQL cluster in a Wharf cluster's private subnets, with IAM database
// authentication, and the database-manager Lambda that creates and drops one
// database and role per app.
//
// Nothing in the private subnets reaches the internet (Wharf runs no NAT
// gateway). The manager Lambda reaches the database inside the VPC, answers
// CloudFormation custom-resource requests through the VPC's S3 gateway
// endpoint (the presigned response URL is an S3 URL), and reads the one-time
// admin password through a Secrets Manager interface endpoint that this
// construct creates in one private subnet, without private DNS, and passes
// to the Lambda as AWS_ENDPOINT_URL_SECRETS_MANAGER (the SDK's standard
// service-endpoint variable). IAM auth tokens are signed
// locally and need no network. docs/constructs.md has the costs.
//
// A Database publishes its attributes as SSM String parameters under
// /<prefix>/databases/<name>/ so apps in other stacks or CDK apps can use
// it by name (FromName) without CloudFormation exports.
package database

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wharf-paas/wharf/constructs/internal/lambdabuild"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// Keys of the SSM String parameters a Database publishes under
// contract.Names.DatabaseParameterPath: /<prefix>/databases/<name>/.
const (
	ParamEndpoint           = "endpoint"
	ParamReaderEndpoint     = "reader-endpoint"
	ParamPort               = "port"
	ParamClusterResourceID  = "cluster-resource-id"
	ParamManagerFunctionArn = "manager-function-arn"
	ParamSecurityGroupID    = "security-group-id"
)

// Environment variables the construct sets on the manager Lambda besides
// the contract's DBManagerEnv* names (contract/dbmanager.go).
const (
	// EnvSecretsEndpoint is the https URL of the Secrets Manager interface
	// endpoint. The endpoint has no private DNS, so the SDK must be pointed
	// at it; aws-sdk-go-v2's config.LoadDefaultConfig reads this standard
	// service-specific endpoint variable itself.
	EnvSecretsEndpoint = "AWS_ENDPOINT_URL_SECRETS_MANAGER"
)

// IDatabase is what an app needs from a Wharf database. A live *Database
// implements it, and so does the value FromName returns.
type IDatabase interface {
	constructs.IConstruct
	// DatabaseName is the Wharf name of the database.
	DatabaseName() *string
	// Endpoint is the writer endpoint host name.
	Endpoint() *string
	// Port is the PostgreSQL port as a string.
	Port() *string
	// ClusterResourceID is the Aurora cluster's resource ID (cluster-...),
	// the key of rds-db:connect ARNs.
	ClusterResourceID() *string
	// ManagerFunctionArn is the database-manager Lambda's ARN, the service
	// token of the app's database custom resource.
	ManagerFunctionArn() *string
	// SecurityGroupID is the database's security group.
	SecurityGroupID() *string
}

// Database is the Wharf Database construct. It implements IDatabase.
type Database struct {
	constructs.Construct
	name   string
	prefix string
	port   string

	// Cluster is the Aurora PostgreSQL cluster.
	Cluster awsrds.DatabaseCluster
	// SecurityGroup is the database's security group: 5432 from the
	// cluster's app security group and from the manager Lambda only.
	SecurityGroup awsec2.SecurityGroup
	// Manager is the database-manager Lambda.
	Manager awslambda.Function
	// ManagerRole is the manager Lambda's execution role.
	ManagerRole awsiam.Role
	// ManagerSecurityGroup is the manager Lambda's security group.
	ManagerSecurityGroup awsec2.SecurityGroup
	// SecretsEndpoint is the Secrets Manager interface endpoint the manager
	// reads the one-time admin password through.
	SecretsEndpoint awsec2.InterfaceVpcEndpoint
	// EnableIamAuth is the custom resource that runs the enable-iam-auth
	// action once, after the writer instance exists.
	EnableIamAuth awscdk.CustomResource
	// PostgresLogGroup receives the PostgreSQL log export.
	PostgresLogGroup awslogs.LogGroup
	// ManagerLogGroup receives the manager Lambda's logs.
	ManagerLogGroup awslogs.LogGroup
	// Parameters holds the published SSM parameters by key.
	Parameters map[string]awsssm.StringParameter
}

var _ IDatabase = (*Database)(nil)

// s3PrefixListID is props.S3PrefixListId, else the region's S3 prefix list
// looked up at synth (a context lookup: it needs a concrete region).
func s3PrefixListID(scope constructs.Construct, stack awscdk.Stack, props *DatabaseProps) *string {
	if props.S3PrefixListId != nil {
		return props.S3PrefixListId
	}
	if *awscdk.Token_IsUnresolved(stack.Region()) || *awscdk.Token_IsUnresolved(stack.Account()) {
		panic(fmt.Errorf("s3PrefixListId: required in a stack without an explicit account and region (the S3 prefix list is otherwise looked up by region at synth)"))
	}
	return awsec2.PrefixList_FromLookup(scope, jsii.String("S3PrefixList"), &awsec2.PrefixListLookupOptions{
		PrefixListName: jsii.String("com.amazonaws." + *stack.Region() + ".s3"),
	}).PrefixListId()
}

// NewDatabase creates a Database. It panics with the error of
// props.Validate() when the props are invalid.
func NewDatabase(scope constructs.Construct, id string, props *DatabaseProps) *Database {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(c)
	prefix, name := props.prefix(), *props.Name
	d := &Database{Construct: c, name: name, prefix: prefix, port: strconv.Itoa(Port), Parameters: map[string]awsssm.StringParameter{}}
	vpc := props.Cluster.Vpc()
	private := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}
	clusterID := contract.Names{Prefix: prefix}.DatabaseCluster(name)
	retention, _ := logretention.Lookup(props.logRetentionDays()) // validated

	// Security groups: the database accepts 5432 from the cluster's app
	// security group and the manager only, and sends nothing.
	d.SecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Wharf database " + name + ": PostgreSQL from the cluster apps and the manager only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	d.ManagerSecurityGroup = awsec2.NewSecurityGroup(c, jsii.String("ManagerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Wharf database " + name + " manager Lambda"),
		AllowAllOutbound: jsii.Bool(false),
	})
	endpointSG := awsec2.NewSecurityGroup(c, jsii.String("SecretsEndpointSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Wharf database " + name + ": Secrets Manager endpoint, HTTPS from the manager only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	pg := awsec2.Port_Tcp(jsii.Number(Port))
	d.SecurityGroup.AddIngressRule(props.Cluster.AppSecurityGroup(), pg, jsii.String("PostgreSQL from the cluster's app tasks"), nil)
	d.SecurityGroup.AddIngressRule(d.ManagerSecurityGroup, pg, jsii.String("PostgreSQL from the database manager"), nil)
	d.ManagerSecurityGroup.AddEgressRule(d.SecurityGroup, pg, jsii.String("PostgreSQL to the database"), nil)
	d.ManagerSecurityGroup.AddEgressRule(endpointSG, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS to the Secrets Manager endpoint"), nil)
	// The presigned CloudFormation response URL is an S3 URL whose address
	// is not known in advance: HTTPS to the region's S3 prefix list, which
	// the cluster's S3 gateway endpoint routes. Nothing else in the VPC
	// (load balancers, other endpoints) is reachable from the manager.
	d.ManagerSecurityGroup.AddEgressRule(awsec2.Peer_PrefixList(s3PrefixListID(c, stack, props)), awsec2.Port_Tcp(jsii.Number(443)),
		jsii.String("HTTPS to S3 (gateway endpoint) for custom-resource responses"), nil)
	endpointSG.AddIngressRule(d.ManagerSecurityGroup, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from the database manager"), nil)

	// One interface endpoint in one private subnet, without private DNS:
	// it is used once per database (enable-iam-auth), so one zone is
	// enough, and without private DNS several databases (or other
	// endpoints) can share the VPC without a DNS conflict.
	d.SecretsEndpoint = awsec2.NewInterfaceVpcEndpoint(c, jsii.String("SecretsEndpoint"), &awsec2.InterfaceVpcEndpointProps{
		Vpc:               vpc,
		Service:           awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
		Subnets:           &awsec2.SubnetSelection{Subnets: &[]awsec2.ISubnet{(*vpc.IsolatedSubnets())[0]}},
		PrivateDnsEnabled: jsii.Bool(false),
		SecurityGroups:    &[]awsec2.ISecurityGroup{endpointSG},
		Open:              jsii.Bool(false),
	})

	d.PostgresLogGroup = awslogs.NewLogGroup(c, jsii.String("PostgresLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(contract.Names{Prefix: d.prefix}.DatabaseClusterLogGroup(d.name)),
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	major := strings.SplitN(props.engineVersion(), ".", 2)[0]
	instanceType := awsec2.NewInstanceType(jsii.String(strings.TrimPrefix(props.instanceClass(), "db.")))
	instance := func(id string) awsrds.IClusterInstance {
		return awsrds.ClusterInstance_Provisioned(jsii.String(id), &awsrds.ProvisionedClusterInstanceProps{
			InstanceType:            instanceType,
			PubliclyAccessible:      jsii.Bool(false),
			AutoMinorVersionUpgrade: jsii.Bool(true),
		})
	}
	var readers *[]awsrds.IClusterInstance
	if props.multiAZ() {
		readers = &[]awsrds.IClusterInstance{instance("Reader")}
	}
	d.Cluster = awsrds.NewDatabaseCluster(c, jsii.String("Cluster"), &awsrds.DatabaseClusterProps{
		ClusterIdentifier: jsii.String(clusterID),
		Engine: awsrds.DatabaseClusterEngine_AuroraPostgres(&awsrds.AuroraPostgresClusterEngineProps{
			Version: awsrds.AuroraPostgresEngineVersion_Of(jsii.String(props.engineVersion()), jsii.String(major), nil),
		}),
		Credentials:           awsrds.Credentials_FromGeneratedSecret(jsii.String(AdminUser), nil),
		Writer:                instance("Writer"),
		Readers:               readers,
		Vpc:                   vpc,
		VpcSubnets:            private,
		SecurityGroups:        &[]awsec2.ISecurityGroup{d.SecurityGroup},
		Port:                  jsii.Number(Port),
		StorageEncrypted:      jsii.Bool(true),
		IamAuthentication:     jsii.Bool(true),
		DeletionProtection:    jsii.Bool(props.deletionProtection()),
		Backup:                &awsrds.BackupProps{Retention: awscdk.Duration_Days(jsii.Number(float64(props.backupRetentionDays())))},
		RemovalPolicy:         awscdk.RemovalPolicy_SNAPSHOT,
		CloudwatchLogsExports: jsii.Strings("postgresql"),
		CopyTagsToSnapshot:    jsii.Bool(true),
		// IAM authentication needs TLS; refuse plain connections for
		// password users too.
		Parameters: &map[string]*string{"rds.force_ssl": jsii.String("1")},
	})
	d.Cluster.Node().AddDependency(d.PostgresLogGroup)

	d.newManager(props, retention)

	// Run enable-iam-auth once, after the writer exists. The manager reads
	// the generated password, grants rds_iam to the admin user and from
	// then on connects with IAM tokens.
	d.EnableIamAuth = awscdk.NewCustomResource(c, jsii.String("EnableIamAuth"), &awscdk.CustomResourceProps{
		ServiceToken: d.Manager.FunctionArn(),
		ResourceType: jsii.String("Custom::WharfDatabaseAdmin"),
		Properties:   &map[string]interface{}{"Action": "enable-iam-auth"},
	})
	d.EnableIamAuth.Node().AddDependency(d.Cluster)
	d.EnableIamAuth.Node().AddDependency(d.SecretsEndpoint)

	d.publish(stack)
	d.suppress(props)
	return d
}

func (d *Database) newManager(props *DatabaseProps, retention awslogs.RetentionDays) {
	c := d.Construct
	stack := awscdk.Stack_Of(c)
	fnName := contract.Names{Prefix: d.prefix}.DatabaseManagerFunction(d.name)
	d.ManagerLogGroup = awslogs.NewLogGroup(c, jsii.String("ManagerLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(contract.Names{Prefix: d.prefix}.DatabaseManagerLogGroup(d.name)),
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	d.ManagerRole = awsiam.NewRole(c, jsii.String("ManagerRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Wharf database " + d.name + " manager Lambda"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"wharf-dbmanager": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid:       jsii.String("WriteOwnLogs"),
					Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
					Resources: jsii.Strings(*d.ManagerLogGroup.LogGroupArn()),
				}),
				// Lambda creates the function's network interfaces with the
				// execution role. ec2:DescribeNetworkInterfaces has no
				// resource type, and Lambda validates the other ENI actions
				// against "*" when the function is created (statements
				// scoped to subnets fail with "does not have permissions to
				// call CreateNetworkInterface"); these are the actions of
				// the AWSLambdaVPCAccessExecutionRole managed policy.
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid: jsii.String("LambdaVpcNetworkInterfaces"),
					Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
						"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
					Resources: jsii.Strings("*"),
				}),
			},
		})},
	})
	code := props.ManagerCode
	if code == nil {
		code = lambdabuild.Code("dbmanager")
	}
	d.Manager = awslambda.NewFunction(c, jsii.String("Manager"), &awslambda.FunctionProps{
		FunctionName:   jsii.String(fnName),
		Description:    jsii.String("Wharf database manager for " + contract.Names{Prefix: d.prefix}.DatabaseCluster(d.name)),
		Runtime:        lambdabuild.Runtime(),
		Architecture:   lambdabuild.Architecture(),
		Handler:        jsii.String("bootstrap"),
		Code:           code,
		MemorySize:     jsii.Number(256),
		Timeout:        awscdk.Duration_Minutes(jsii.Number(2)),
		Role:           d.ManagerRole,
		LogGroup:       d.ManagerLogGroup,
		Vpc:            props.Cluster.Vpc(),
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		SecurityGroups: &[]awsec2.ISecurityGroup{d.ManagerSecurityGroup},
		Environment: &map[string]*string{
			contract.DBManagerEnvHost:           d.Cluster.ClusterEndpoint().Hostname(),
			contract.DBManagerEnvPort:           jsii.String(d.port),
			contract.DBManagerEnvAdminUser:      jsii.String(AdminUser),
			contract.DBManagerEnvAdminSecretARN: d.Cluster.Secret().SecretArn(),
			EnvSecretsEndpoint: awscdk.Fn_Join(jsii.String(""), &[]*string{
				jsii.String("https://"),
				awscdk.Fn_Select(jsii.Number(1), awscdk.Fn_Split(jsii.String(":"),
					awscdk.Fn_Select(jsii.Number(0), d.SecretsEndpoint.VpcEndpointDnsEntries()), nil)),
			}),
		},
	})
	// The password is read once; GetSecretValue on this one secret only.
	d.ManagerRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadOneTimeAdminPassword"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
		Resources: jsii.Strings(*d.Cluster.Secret().SecretArn()),
	}))
	// rds-db:connect as the admin user of this cluster only.
	d.ManagerRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ConnectAsAdmin"),
		Actions:   jsii.Strings("rds-db:connect"),
		Resources: jsii.Strings(*DBUserArn(stack, d.Cluster.ClusterResourceIdentifier(), AdminUser)),
	}))
	// run-sql logs in as the database's owner, an app's own role, so that a
	// one-off script and whatever the app planted in its database run with
	// the app's rights, never the admin's (docs/dbmanager.md). App roles
	// are made at run time (create-database) and their names share no
	// prefix, so the user part is "*": the cluster's users only, and nothing
	// the admin, which the manager already logs in as, could not reach.
	d.ManagerRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ConnectAsAppRolesForOneOffSQL"),
		Actions:   jsii.Strings("rds-db:connect"),
		Resources: jsii.Strings(*DBUserArn(stack, d.Cluster.ClusterResourceIdentifier(), "*")),
	}))
}

// DBUserArn is the rds-db:connect resource of a database user:
// arn:<partition>:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>.
func DBUserArn(stack awscdk.Stack, clusterResourceID *string, user string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("rds-db"),
		Resource:     jsii.String("dbuser"),
		ResourceName: awscdk.Fn_Join(jsii.String(""), &[]*string{clusterResourceID, jsii.String("/" + user)}),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

func (d *Database) publish(stack awscdk.Stack) {
	values := []struct {
		key, desc string
		value     *string
	}{
		{ParamEndpoint, "writer endpoint host name", d.Cluster.ClusterEndpoint().Hostname()},
		{ParamReaderEndpoint, "reader endpoint host name", d.Cluster.ClusterReadEndpoint().Hostname()},
		{ParamPort, "PostgreSQL port", jsii.String(d.port)},
		{ParamClusterResourceID, "Aurora cluster resource ID (rds-db:connect ARNs)", d.Cluster.ClusterResourceIdentifier()},
		{ParamManagerFunctionArn, "database-manager Lambda ARN (custom-resource service token)", d.Manager.FunctionArn()},
		{ParamSecurityGroupID, "database security group", d.SecurityGroup.SecurityGroupId()},
	}
	params := constructs.NewConstruct(d.Construct, jsii.String("Parameters"))
	for _, v := range values {
		d.Parameters[v.key] = awsssm.NewStringParameter(params, jsii.String(v.key), &awsssm.StringParameterProps{
			ParameterName: jsii.String(contract.Names{Prefix: d.prefix}.DatabaseParameter(d.name, v.key)),
			Description:   jsii.String("Wharf database " + d.name + ": " + v.desc),
			StringValue:   v.value,
		})
	}
}

func (d *Database) suppress(props *DatabaseProps) {
	cdknag.NagSuppressions_AddResourceSuppressions(d.Cluster, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String("the generated admin password is used once: enable-iam-auth grants rds_iam to the admin user, after which PostgreSQL accepts only IAM tokens for it, so rotating the dead password adds a rotation Lambda for nothing")},
		{Id: jsii.String("AwsSolutions-RDS11"), Reason: jsii.String("the standard PostgreSQL port 5432 is part of Wharf's contract (DATABASE_URL, security groups); the database is in private subnets and accepts 5432 only from the cluster's app security group and the manager")},
	}, jsii.Bool(true))
	if !props.deletionProtection() {
		cdknag.NagSuppressions_AddResourceSuppressions(d.Cluster, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-RDS10"),
			Reason: jsii.String("deletion protection was turned off explicitly (DatabaseProps.DeletionProtection=false), for a disposable database; the removal policy still snapshots it on delete"),
		}}, jsii.Bool(true))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(d.ManagerRole, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("ENI actions for a VPC Lambda: ec2:DescribeNetworkInterfaces has no resource type and Lambda checks the other ENI actions against Resource * when it creates the function"),
		AppliesTo: &[]interface{}{"Resource::*"},
	}, {
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("rds-db:connect as any database user of this one cluster: run-sql logs in as the app role that owns the target database (created at run time, no common prefix), so one-off SQL never runs with the admin's rights; the manager already logs in as the admin"),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{
			Regex: jsii.String("/^Resource::arn:<AWS::Partition>:rds-db:[^:]+:[^:]+:dbuser:<[A-Za-z0-9]+\\.DBClusterResourceId>\\/\\*$/"),
		}},
	}}, jsii.Bool(true))
}

// DatabaseName implements IDatabase.
func (d *Database) DatabaseName() *string { return jsii.String(d.name) }

// Endpoint implements IDatabase.
func (d *Database) Endpoint() *string { return d.Cluster.ClusterEndpoint().Hostname() }

// Port implements IDatabase.
func (d *Database) Port() *string { return jsii.String(d.port) }

// ClusterResourceID implements IDatabase.
func (d *Database) ClusterResourceID() *string { return d.Cluster.ClusterResourceIdentifier() }

// ManagerFunctionArn implements IDatabase.
func (d *Database) ManagerFunctionArn() *string { return d.Manager.FunctionArn() }

// SecurityGroupID implements IDatabase.
func (d *Database) SecurityGroupID() *string { return d.SecurityGroup.SecurityGroupId() }
