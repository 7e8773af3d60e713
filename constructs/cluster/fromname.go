package cluster

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/internal/fromname"
)

// FromNameProps names the cluster FromName refers to.
type FromNameProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the Wharf name of the cluster. Required.
	Name *string
	// AvailabilityZones are the cluster's three availability zones, in the
	// order the cluster was created with (the subnet lists follow it).
	// Required: CDK needs them at synth time to match subnets to zones.
	AvailabilityZones []string
	// Domain is the cluster domain when the caller knows it at synth time
	// (the platform config does); Domain() then returns it as a literal,
	// so an app can tell which of its custom domains the cluster's
	// wildcard certificate already covers.
	// Default: read from the cluster's SSM parameter at deploy time.
	Domain *string
}

// Validate checks the props; FromName panics with the same error.
func (p *FromNameProps) Validate() error {
	if p == nil {
		return errors.New("from name props: must not be nil")
	}
	errs := fromname.Validate(p.Prefix, p.Name, ValidateName)
	if _, err := ValidateAvailabilityZones(p.AvailabilityZones); err != nil {
		errs = append(errs, err)
	}
	if p.Domain != nil && !*awscdk.Token_IsUnresolved(p.Domain) {
		if err := validateDomain("domain", *p.Domain); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type importedCluster struct {
	constructs.Construct
	prefix string
	name   string
	azs    []string
	vpc    awsec2.IVpc
	ecs    awsecs.ICluster
	https  awselasticloadbalancingv2.IApplicationListener
	albSG  awsec2.ISecurityGroup
	appSG  awsec2.ISecurityGroup
	domain *string
	zone   awsroute53.IHostedZone
	lb     awselasticloadbalancingv2.IApplicationLoadBalancer
}

// FromName returns the cluster called props.Name as an ICluster whose
// attributes are read from its SSM parameters at deploy time (CloudFormation
// SSM parameter types; no synth-time lookup, no CloudFormation export). Each
// accessor reads only the parameters it needs, on first use, so a dependant
// template declares only the parameters it references. The cluster stack
// must be deployed first; a dependant sees a changed attribute when it is
// deployed again.
//
// The imported security groups are immutable: the rule from the load
// balancer to the app security group already exists (all TCP), and a
// dependant cannot change the cluster's groups.
func FromName(scope constructs.Construct, id string, props *FromNameProps) ICluster {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	prefix := fromname.Prefix(props.Prefix)
	// CloudFormation validation reports a declared parameter that no
	// resource references (W2001) at the stack, not at the construct, so
	// only the stack can acknowledge it: the imported VPC needs both
	// subnet lists and the listener its load balancer's security group,
	// while a dependant may use only some of them. Every such parameter is
	// a cluster attribute resolved at deploy time and harmless unused.
	// (A parameter the dependant declares itself is covered too; the
	// acknowledgment names this cluster as the reason.)
	awscdk.Validations_Of(awscdk.Stack_Of(scope)).Acknowledge(&awscdk.Acknowledgment{
		Id:     jsii.String(UnusedParameterRule),
		Reason: jsii.String("unreferenced parameters are attributes of Wharf cluster " + *props.Name + " (cluster.FromName), harmless"),
	})
	return &importedCluster{
		Construct: constructs.NewConstruct(scope, jsii.String(id)),
		prefix:    prefix,
		name:      *props.Name,
		azs:       append([]string(nil), props.AvailabilityZones...),
		domain:    props.Domain,
	}
}

// UnusedParameterRule is CloudFormation validation's rule for a template
// parameter no resource references; FromName acknowledges it on the
// dependant's stack.
const UnusedParameterRule = "CloudFormation-Validate::W2001"

// noRouteTableWarning is the ID of CDK's warning for imported subnets without
// route-table IDs.
const noRouteTableWarning = "@aws-cdk/aws-ec2:noSubnetRouteTableId"

// param is the deploy-time value of one published attribute.
func (ic *importedCluster) param(key string) *string {
	return awsssm.StringParameter_ValueForStringParameter(ic.Construct, jsii.String(ParameterName(ic.prefix, ic.name, key)), nil)
}

func (ic *importedCluster) split(key string) *[]*string {
	return awscdk.Fn_Split(jsii.String(","), ic.param(key), jsii.Number(AvailabilityZoneCount))
}

func (ic *importedCluster) ClusterName() *string { return jsii.String(ic.name) }

func (ic *importedCluster) Vpc() awsec2.IVpc {
	if ic.vpc == nil {
		// No VpcCidrBlock: no dependant needs it (security groups refer
		// to each other, not to CIDRs), and reading it would add an
		// unused parameter to every dependant template. Reading
		// Vpc().VpcCidrBlock() fails at synth with CDK's own message;
		// the CIDR is published as /<prefix>/clusters/<name>/vpc-cidr.
		ic.vpc = awsec2.Vpc_FromVpcAttributes(ic.Construct, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId:             ic.param(ParamVpcID),
			AvailabilityZones: jsii.Strings(ic.azs...),
			PublicSubnetIds:   ic.split(ParamPublicSubnetIDs),
			IsolatedSubnetIds: ic.split(ParamPrivateSubnetIDs),
		})
		// The cluster does not publish its route tables: dependants add no
		// routes or gateway endpoints (the cluster owns the S3 endpoint),
		// so the subnets' missing route-table IDs are never read.
		awscdk.Annotations_Of(ic.vpc).AcknowledgeWarning(jsii.String(noRouteTableWarning),
			jsii.String("Wharf dependants never read an imported subnet's route table"))
	}
	return ic.vpc
}

func (ic *importedCluster) EcsCluster() awsecs.ICluster {
	if ic.ecs == nil {
		ic.ecs = awsecs.Cluster_FromClusterAttributes(ic.Construct, jsii.String("Ecs"), &awsecs.ClusterAttributes{
			// The ARN is derived from the name and the stack's account
			// and region (the cluster is in the same environment).
			ClusterName:    ic.param(ParamEcsClusterName),
			Vpc:            ic.Vpc(),
			SecurityGroups: &[]awsec2.ISecurityGroup{},
		})
	}
	return ic.ecs
}

func (ic *importedCluster) HttpsListener() awselasticloadbalancingv2.IApplicationListener {
	if ic.https == nil {
		ic.https = awselasticloadbalancingv2.ApplicationListener_FromApplicationListenerAttributes(ic.Construct, jsii.String("HttpsListener"), &awselasticloadbalancingv2.ApplicationListenerAttributes{
			ListenerArn:   ic.param(ParamHTTPSListenerArn),
			SecurityGroup: ic.LoadBalancerSecurityGroup(),
			DefaultPort:   jsii.Number(443),
		})
	}
	return ic.https
}

func (ic *importedCluster) LoadBalancerSecurityGroup() awsec2.ISecurityGroup {
	if ic.albSG == nil {
		ic.albSG = awsec2.SecurityGroup_FromSecurityGroupId(ic.Construct, jsii.String("LoadBalancerSecurityGroup"), ic.param(ParamLoadBalancerSecurityGroupID), &awsec2.SecurityGroupImportOptions{
			AllowAllOutbound: jsii.Bool(false),
			Mutable:          jsii.Bool(false),
		})
	}
	return ic.albSG
}

func (ic *importedCluster) AppSecurityGroup() awsec2.ISecurityGroup {
	if ic.appSG == nil {
		ic.appSG = awsec2.SecurityGroup_FromSecurityGroupId(ic.Construct, jsii.String("AppSecurityGroup"), ic.param(ParamAppSecurityGroupID), &awsec2.SecurityGroupImportOptions{
			AllowAllOutbound: jsii.Bool(true),
			Mutable:          jsii.Bool(false),
		})
	}
	return ic.appSG
}

func (ic *importedCluster) Domain() *string {
	if ic.domain == nil {
		ic.domain = ic.param(ParamDomain)
	}
	return ic.domain
}

func (ic *importedCluster) HostedZone() awsroute53.IHostedZone {
	if ic.zone == nil {
		ic.zone = awsroute53.HostedZone_FromHostedZoneAttributes(ic.Construct, jsii.String("HostedZone"), &awsroute53.HostedZoneAttributes{
			HostedZoneId: ic.param(ParamHostedZoneID),
			ZoneName:     ic.param(ParamHostedZoneName),
		})
	}
	return ic.zone
}

func (ic *importedCluster) SharedLoadBalancer() awselasticloadbalancingv2.ILoadBalancerV2 {
	if ic.lb == nil {
		ic.lb = awselasticloadbalancingv2.ApplicationLoadBalancer_FromApplicationLoadBalancerAttributes(ic.Construct, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.ApplicationLoadBalancerAttributes{
			LoadBalancerArn:                   ic.param(ParamLoadBalancerArn),
			SecurityGroupId:                   ic.LoadBalancerSecurityGroup().SecurityGroupId(),
			LoadBalancerDnsName:               ic.param(ParamLoadBalancerDNSName),
			LoadBalancerCanonicalHostedZoneId: ic.param(ParamLoadBalancerHostedZoneID),
		})
	}
	return ic.lb
}

func (ic *importedCluster) LoadBalancerFullName() *string {
	return ic.param(ParamLoadBalancerFullName)
}
