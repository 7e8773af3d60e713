// Package cluster provides the Wharf Cluster construct: a three-AZ VPC with
// no NAT gateways, an ECS cluster with Fargate (and optionally EC2)
// capacity, and one shared HTTPS Application Load Balancer with a wildcard
// certificate for the cluster domain. A Cluster publishes its attributes as
// SSM parameters under /<prefix>/clusters/<name>/ so that apps and databases
// in other stacks or CDK apps can use it by name (FromName) without
// CloudFormation exports.
package cluster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/wharf-paas/wharf/contract"
)

// Cluster is the Wharf Cluster construct. It implements ICluster.
type Cluster struct {
	constructs.Construct
	name   string
	prefix string
	domain string
	vpc    awsec2.Vpc
	ecs    awsecs.Cluster
	zone   awsroute53.IHostedZone
	albSG  awsec2.SecurityGroup
	appSG  awsec2.SecurityGroup
	https  awselasticloadbalancingv2.ApplicationListener

	// LoadBalancer is the shared internet-facing Application Load Balancer.
	LoadBalancer awselasticloadbalancingv2.ApplicationLoadBalancer
	// HTTPListener is the port-80 listener; it only redirects to HTTPS.
	HTTPListener awselasticloadbalancingv2.ApplicationListener
	// Certificate is the DNS-validated ACM certificate for *.<domain>.
	Certificate awscertificatemanager.Certificate
	// AccessLogBucket receives the load balancer's access logs (SSE-S3).
	AccessLogBucket awss3.Bucket
	// FlowLogGroup receives the VPC flow logs.
	FlowLogGroup awslogs.LogGroup
	// AutoScalingGroup is the EC2 capacity; nil unless Ec2Capacity was set.
	AutoScalingGroup awsautoscaling.AutoScalingGroup
	// Parameters holds the published SSM parameters by key (ParamVpcID, ...).
	Parameters map[string]awsssm.StringParameter
}

var _ ICluster = (*Cluster)(nil)

// NewCluster creates a Cluster. It panics with the error of props.Validate()
// when the props are invalid, and when the enclosing stack has no explicit
// account and region or lacks the availability-zones context entry (see
// SetAvailabilityZonesContext).
func NewCluster(scope constructs.Construct, id string, props *ClusterProps) *Cluster {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	stack := awscdk.Stack_Of(scope)
	if err := checkStackEnv(stack, props.AvailabilityZones); err != nil {
		panic(err)
	}
	mask, _ := props.subnetMask() // validated above
	c := constructs.NewConstruct(scope, jsii.String(id))
	cl := &Cluster{
		Construct:  c,
		name:       *props.Name,
		prefix:     props.prefix(),
		domain:     *props.Domain,
		Parameters: map[string]awsssm.StringParameter{},
	}
	cl.newNetwork(props, mask)
	cl.newEcsCluster(props)
	cl.newLoadBalancer(props)
	cl.publish(props)
	return cl
}

func (cl *Cluster) newNetwork(props *ClusterProps, mask int) {
	cl.vpc = awsec2.NewVpc(cl.Construct, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(props.cidr())),
		AvailabilityZones: jsii.Strings(props.AvailabilityZones...),
		NatGateways:       jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(mask)},
			// No NAT: private subnets are isolated (databases, internal
			// services). Tasks run in the public subnets with public IPs.
			{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(mask)},
		},
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
		},
		// Explicit so that synthesis does not depend on the
		// restrictDefaultSecurityGroup feature flag (which adds a custom
		// resource Lambda). Nothing uses the default security group.
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	cl.FlowLogGroup = awslogs.NewLogGroup(cl.Construct, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     props.flowLogRetention(),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	cl.vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(cl.FlowLogGroup, nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})

	cl.albSG = awsec2.NewSecurityGroup(cl.Construct, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              cl.vpc,
		Description:      jsii.String("Wharf load balancer: HTTP and HTTPS from anywhere, out to app tasks only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	cl.albSG.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from anywhere"), nil)
	cl.albSG.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from anywhere (redirected to HTTPS)"), nil)
	cdknag.NagSuppressions_AddResourceSuppressions(cl.albSG, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-EC23"),
		Reason: jsii.String("the internet-facing load balancer serves public HTTPS on 443 and redirects HTTP on 80; no other port is open"),
	}}, jsii.Bool(false))

	cl.appSG = awsec2.NewSecurityGroup(cl.Construct, jsii.String("AppSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              cl.vpc,
		Description:      jsii.String("Wharf app tasks: inbound from the load balancer only"),
		AllowAllOutbound: jsii.Bool(true),
	})
	cl.appSG.AddIngressRule(cl.albSG, awsec2.Port_AllTcp(), jsii.String("from the Wharf load balancer only"), nil)
	cl.albSG.AddEgressRule(cl.appSG, awsec2.Port_AllTcp(), jsii.String("to Wharf app tasks only"), nil)
}

func (cl *Cluster) newEcsCluster(props *ClusterProps) {
	cl.ecs = awsecs.NewCluster(cl.Construct, jsii.String("Ecs"), &awsecs.ClusterProps{
		Vpc:                            cl.vpc,
		ClusterName:                    jsii.String(EcsClusterName(cl.prefix, cl.name)),
		ContainerInsightsV2:            awsecs.ContainerInsights_ENABLED,
		EnableFargateCapacityProviders: jsii.Bool(true),
	})
	cl.ecs.AddDefaultCapacityProviderStrategy(&[]*awsecs.CapacityProviderStrategy{
		{CapacityProvider: jsii.String("FARGATE"), Weight: jsii.Number(1)},
	})
	if props.Ec2Capacity != nil {
		cl.newEc2Capacity(props.Ec2Capacity)
	}
}

func (cl *Cluster) newEc2Capacity(e *Ec2CapacityProps) {
	instanceType := awsec2.NewInstanceType(e.InstanceType)
	hw := awsecs.AmiHardwareType_STANDARD
	if instanceType.Architecture() == awsec2.InstanceArchitecture_ARM_64 {
		hw = awsecs.AmiHardwareType_ARM
	}
	role := awsiam.NewRole(cl.Construct, jsii.String("Ec2InstanceRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("Wharf cluster " + cl.name + ": ECS container instances"),
	})
	// ECS agent settings (the agent reads /etc/ecs/ecs.config when it
	// starts, after user data; the capacity provider appends ECS_CLUSTER):
	// ECS_AWSVPC_BLOCK_IMDS keeps awsvpc tasks away from the instance
	// metadata service and so from this instance role;
	// ECS_DISABLE_PRIVILEGED makes the agent refuse containers with
	// privileged: true, which would own the host.
	userData := awsec2.UserData_ForLinux(nil)
	userData.AddCommands(
		jsii.String("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config"),
		jsii.String("echo ECS_DISABLE_PRIVILEGED=true >> /etc/ecs/ecs.config"),
	)
	lt := awsec2.NewLaunchTemplate(cl.Construct, jsii.String("Ec2LaunchTemplate"), &awsec2.LaunchTemplateProps{
		InstanceType: instanceType,
		// The image ID is an SSM-parameter CloudFormation parameter resolved
		// at deploy time, not a synth-time lookup.
		MachineImage:             awsecs.EcsOptimizedImage_AmazonLinux2023(hw, nil),
		UserData:                 userData,
		SecurityGroup:            cl.appSG,
		AssociatePublicIpAddress: jsii.Bool(true),
		RequireImdsv2:            jsii.Bool(true),
		// One hop: containers on bridge networking cannot reach the
		// instance's metadata credentials (AL2023 AMIs default to two).
		HttpPutResponseHopLimit: jsii.Number(1),
		Role:                    role,
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(30), &awsec2.EbsDeviceOptions{
				Encrypted:  jsii.Bool(true),
				VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	lo, hi := e.minMax()
	cl.AutoScalingGroup = awsautoscaling.NewAutoScalingGroup(cl.Construct, jsii.String("Ec2Capacity"), &awsautoscaling.AutoScalingGroupProps{
		Vpc:            cl.vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		LaunchTemplate: lt,
		MinCapacity:    jsii.Number(lo),
		MaxCapacity:    jsii.Number(hi),
	})
	provider := awsecs.NewAsgCapacityProvider(cl.Construct, jsii.String("Ec2CapacityProvider"), &awsecs.AsgCapacityProviderProps{
		AutoScalingGroup:                   cl.AutoScalingGroup,
		EnableManagedTerminationProtection: jsii.Bool(false),
		// ECS drains instances itself; without this CDK adds a drain-hook
		// Lambda, an SNS topic and their roles.
		EnableManagedDraining: jsii.Bool(true),
	})
	cl.ecs.AddAsgCapacityProvider(provider, nil)
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("ECS container-agent policy generated by CDK: ecs:Submit* (task, container and attachment state changes) is limited to this ECS cluster; " +
			"ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and the agent's log calls support only Resource *, and ecs:Poll/StartTelemetrySession are limited by the ecs:cluster condition"),
		AppliesTo: &[]interface{}{"Action::ecs:Submit*", "Resource::*"},
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(cl.AutoScalingGroup, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-AS3"),
		Reason: jsii.String("the ECS capacity provider owns scaling of this group; scaling activity is recorded by Auto Scaling and ECS events, so no SNS notifications are configured"),
	}}, jsii.Bool(true))
}

func (cl *Cluster) newLoadBalancer(props *ClusterProps) {
	cl.AccessLogBucket = awss3.NewBucket(cl.Construct, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:         jsii.String("expire-access-logs"),
			Expiration: awscdk.Duration_Days(jsii.Number(props.accessLogRetentionDays())),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(cl.AccessLogBucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("this bucket only stores the load balancer's access logs; logging access to a log bucket would need yet another bucket"),
	}}, jsii.Bool(false))

	cl.LoadBalancer = awselasticloadbalancingv2.NewApplicationLoadBalancer(cl.Construct, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc:                     cl.vpc,
		InternetFacing:          jsii.Bool(true),
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroup:           cl.albSG,
		DeletionProtection:      jsii.Bool(true),
		DropInvalidHeaderFields: jsii.Bool(true),
	})
	cl.LoadBalancer.LogAccessLogs(cl.AccessLogBucket, jsii.String("alb"))

	cl.zone = awsroute53.HostedZone_FromHostedZoneAttributes(cl.Construct, jsii.String("HostedZone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: props.HostedZoneID,
		ZoneName:     jsii.String(strings.TrimSuffix(*props.HostedZoneName, ".")),
	})
	cl.Certificate = awscertificatemanager.NewCertificate(cl.Construct, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
		DomainName: jsii.String("*." + cl.domain),
		Validation: awscertificatemanager.CertificateValidation_FromDns(cl.zone),
	})

	cl.https = cl.LoadBalancer.AddListener(jsii.String("Https"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:         jsii.Number(443),
		Protocol:     awselasticloadbalancingv2.ApplicationProtocol_HTTPS,
		Certificates: &[]awselasticloadbalancingv2.IListenerCertificate{awselasticloadbalancingv2.ListenerCertificate_FromCertificateManager(cl.Certificate)},
		SslPolicy:    awselasticloadbalancingv2.SslPolicy_TLS13_RES,
		Open:         jsii.Bool(false),
		DefaultAction: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(404), &awselasticloadbalancingv2.FixedResponseOptions{
			ContentType: jsii.String("text/plain"),
			MessageBody: jsii.String("not found"),
		}),
	})
	cl.HTTPListener = cl.LoadBalancer.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:     jsii.Number(80),
		Protocol: awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		Open:     jsii.Bool(false),
		DefaultAction: awselasticloadbalancingv2.ListenerAction_Redirect(&awselasticloadbalancingv2.RedirectOptions{
			Protocol:  jsii.String("HTTPS"),
			Port:      jsii.String("443"),
			Permanent: jsii.Bool(true),
		}),
	})

	awsroute53.NewARecord(cl.Construct, jsii.String("WildcardRecord"), &awsroute53.ARecordProps{
		Zone:       cl.zone,
		RecordName: jsii.String("*." + cl.domain + "."),
		Target:     awsroute53.RecordTarget_FromAlias(awsroute53targets.NewLoadBalancerTarget(cl.LoadBalancer, nil)),
		Comment:    jsii.String(fmt.Sprintf("Wharf cluster %s: every app under %s", cl.name, cl.domain)),
	})
}

func (cl *Cluster) publish(props *ClusterProps) {
	join := func(ids []*string) *string { return awscdk.Fn_Join(jsii.String(","), &ids) }
	subnetIDs := func(subnets *[]awsec2.ISubnet) *string {
		ids := make([]*string, 0, len(*subnets))
		for _, s := range *subnets {
			ids = append(ids, s.SubnetId())
		}
		return join(ids)
	}
	values := map[string]*string{
		ParamVpcID:                       cl.vpc.VpcId(),
		ParamVpcCidr:                     cl.vpc.VpcCidrBlock(),
		ParamAvailabilityZones:           jsii.String(strings.Join(props.AvailabilityZones, ",")),
		ParamPublicSubnetIDs:             subnetIDs(cl.vpc.PublicSubnets()),
		ParamPrivateSubnetIDs:            subnetIDs(cl.vpc.IsolatedSubnets()),
		ParamEcsClusterName:              cl.ecs.ClusterName(),
		ParamEcsClusterArn:               cl.ecs.ClusterArn(),
		ParamLoadBalancerArn:             cl.LoadBalancer.LoadBalancerArn(),
		ParamLoadBalancerFullName:        cl.LoadBalancer.LoadBalancerFullName(),
		ParamLoadBalancerDNSName:         cl.LoadBalancer.LoadBalancerDnsName(),
		ParamLoadBalancerHostedZoneID:    cl.LoadBalancer.LoadBalancerCanonicalHostedZoneId(),
		ParamHTTPSListenerArn:            cl.https.ListenerArn(),
		ParamLoadBalancerSecurityGroupID: cl.albSG.SecurityGroupId(),
		ParamAppSecurityGroupID:          cl.appSG.SecurityGroupId(),
		ParamDomain:                      jsii.String(cl.domain),
		ParamHostedZoneID:                props.HostedZoneID,
		ParamHostedZoneName:              jsii.String(strings.TrimSuffix(*props.HostedZoneName, ".")),
	}
	group := constructs.NewConstruct(cl.Construct, jsii.String("Parameters"))
	for _, key := range ParameterKeys {
		cl.Parameters[key] = awsssm.NewStringParameter(group, jsii.String(key), &awsssm.StringParameterProps{
			ParameterName: jsii.String(ParameterName(cl.prefix, cl.name, key)),
			StringValue:   values[key],
			Description:   jsii.String("Wharf cluster " + cl.name + ": " + key),
		})
	}
}

// EcsClusterName is the name of the ECS cluster of Wharf cluster name:
// <prefix>-<name>. The account's observer role relies on the prefix.
func EcsClusterName(prefix, name string) string {
	return contract.Names{Prefix: prefix}.ECSCluster(name)
}

// ClusterName returns the Wharf name of the cluster.
func (cl *Cluster) ClusterName() *string { return jsii.String(cl.name) }

// Vpc returns the cluster's VPC.
func (cl *Cluster) Vpc() awsec2.IVpc { return cl.vpc }

// EcsCluster returns the ECS cluster.
func (cl *Cluster) EcsCluster() awsecs.ICluster { return cl.ecs }

// HttpsListener returns the load balancer's HTTPS listener.
func (cl *Cluster) HttpsListener() awselasticloadbalancingv2.IApplicationListener { return cl.https }

// LoadBalancerSecurityGroup returns the load balancer's security group.
func (cl *Cluster) LoadBalancerSecurityGroup() awsec2.ISecurityGroup { return cl.albSG }

// AppSecurityGroup returns the security group for app tasks.
func (cl *Cluster) AppSecurityGroup() awsec2.ISecurityGroup { return cl.appSG }

// Domain returns the cluster domain.
func (cl *Cluster) Domain() *string { return jsii.String(cl.domain) }

// HostedZone returns the Route53 zone of the domain.
func (cl *Cluster) HostedZone() awsroute53.IHostedZone { return cl.zone }

// SharedLoadBalancer returns the shared load balancer.
func (cl *Cluster) SharedLoadBalancer() awselasticloadbalancingv2.ILoadBalancerV2 {
	return cl.LoadBalancer
}

// LoadBalancerFullName returns the shared load balancer's full name.
func (cl *Cluster) LoadBalancerFullName() *string { return cl.LoadBalancer.LoadBalancerFullName() }

// checkStackEnv makes sure the stack can hold a VPC over explicit
// availability zones without a context lookup (findings #3).
func checkStackEnv(stack awscdk.Stack, azs []string) error {
	if *awscdk.Token_IsUnresolved(stack.Account()) || *awscdk.Token_IsUnresolved(stack.Region()) {
		return fmt.Errorf("cluster: stack %s needs an explicit env (account and region): a cluster names its availability zones, which an environment-agnostic stack cannot use", *stack.StackName())
	}
	region, _ := ValidateAvailabilityZones(azs) // validated by the caller
	if region != *stack.Region() {
		return fmt.Errorf("availabilityZones %v: must be in the stack's region %s", azs, *stack.Region())
	}
	key := AvailabilityZonesContextKey(*stack.Account(), *stack.Region())
	known := contextStrings(stack.Node().TryGetContext(jsii.String(key)))
	if known == nil {
		return fmt.Errorf("cluster: context %q is not set; call cluster.SetAvailabilityZonesContext(app, %q, %q, azs) before creating stacks so that synthesis makes no availability-zone lookup", key, *stack.Account(), *stack.Region())
	}
	for _, az := range azs {
		if !slices.Contains(known, az) {
			return fmt.Errorf("availabilityZones: %q is not among the zones in context %q (%v)", az, key, known)
		}
	}
	return nil
}
