// Package apptest holds test helpers shared by the App and Database
// construct tests: a stand-in cluster built from real CDK resources, and an
// IAM policy checker that walks every policy of a synthesized template.
package apptest

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/cluster"
)

// Account, Region and AvailabilityZones are the environment of the test
// stacks.
const (
	Account = "111122223333"
	Region  = "eu-west-1"
	Domain  = "apps.example.com"
)

// AvailabilityZones are the test cluster's zones.
var AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

// Env is the explicit environment of the test stacks.
func Env() *awscdk.Environment {
	return &awscdk.Environment{Account: jsii.String(Account), Region: jsii.String(Region)}
}

// AppContext is the CDK context a test App needs so a three-AZ VPC
// synthesizes without a lookup (findings #3).
func AppContext() map[string]interface{} {
	return map[string]interface{}{
		"availability-zones:account=" + Account + ":region=" + Region: AvailabilityZones,
	}
}

// Cluster is a stand-in for a Wharf cluster made of the same kinds of real
// resources: a three-AZ VPC with public and isolated private subnets and an
// S3 gateway endpoint, an ECS cluster, an internet-facing ALB with an HTTPS
// listener (imported certificate), the load balancer and app security
// groups, and an imported hosted zone.
type Cluster struct {
	constructs.Construct
	vpc   awsec2.Vpc
	ecs   awsecs.Cluster
	https awselasticloadbalancingv2.ApplicationListener
	albSG awsec2.SecurityGroup
	appSG awsec2.SecurityGroup
	zone  awsroute53.IHostedZone
	alb   awselasticloadbalancingv2.ApplicationLoadBalancer
}

var _ cluster.ICluster = (*Cluster)(nil)

// NewCluster creates the stand-in cluster "main" in scope.
func NewCluster(scope constructs.Construct, id string) *Cluster {
	c := constructs.NewConstruct(scope, jsii.String(id))
	cl := &Cluster{Construct: c}
	cl.vpc = awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String("10.100.0.0/16")),
		AvailabilityZones: jsii.Strings(AvailabilityZones...),
		NatGateways:       jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(19)},
			{Name: jsii.String("Private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(19)},
		},
		GatewayEndpoints: &map[string]*awsec2.GatewayVpcEndpointOptions{
			"S3": {Service: awsec2.GatewayVpcEndpointAwsService_S3()},
		},
	})
	cl.ecs = awsecs.NewCluster(c, jsii.String("Ecs"), &awsecs.ClusterProps{Vpc: cl.vpc, ClusterName: jsii.String("wharf-main")})
	cl.albSG = awsec2.NewSecurityGroup(c, jsii.String("LoadBalancerSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: cl.vpc, AllowAllOutbound: jsii.Bool(false)})
	cl.appSG = awsec2.NewSecurityGroup(c, jsii.String("AppSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: cl.vpc, AllowAllOutbound: jsii.Bool(true)})
	cl.appSG.AddIngressRule(cl.albSG, awsec2.Port_AllTcp(), jsii.String("from the load balancer"), nil)
	cl.albSG.AddEgressRule(cl.appSG, awsec2.Port_AllTcp(), jsii.String("to app tasks"), nil)
	alb := awselasticloadbalancingv2.NewApplicationLoadBalancer(c, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc: cl.vpc, InternetFacing: jsii.Bool(true), SecurityGroup: cl.albSG,
	})
	cl.alb = alb
	cert := awscertificatemanager.Certificate_FromCertificateArn(c, jsii.String("Certificate"),
		jsii.String("arn:aws:acm:"+Region+":"+Account+":certificate/00000000-0000-0000-0000-000000000000"))
	cl.https = alb.AddListener(jsii.String("Https"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:          jsii.Number(443),
		Protocol:      awselasticloadbalancingv2.ApplicationProtocol_HTTPS,
		Certificates:  &[]awselasticloadbalancingv2.IListenerCertificate{awselasticloadbalancingv2.ListenerCertificate_FromCertificateManager(cert)},
		DefaultAction: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(404), nil),
		Open:          jsii.Bool(false),
	})
	cl.zone = awsroute53.HostedZone_FromHostedZoneAttributes(c, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String("Z0123456789ABCDEFGHIJ"), ZoneName: jsii.String("example.com"),
	})
	return cl
}

// ClusterName implements cluster.ICluster.
func (cl *Cluster) ClusterName() *string { return jsii.String("main") }

// Vpc implements cluster.ICluster.
func (cl *Cluster) Vpc() awsec2.IVpc { return cl.vpc }

// EcsCluster implements cluster.ICluster.
func (cl *Cluster) EcsCluster() awsecs.ICluster { return cl.ecs }

// HttpsListener implements cluster.ICluster.
func (cl *Cluster) HttpsListener() awselasticloadbalancingv2.IApplicationListener { return cl.https }

// LoadBalancerSecurityGroup implements cluster.ICluster.
func (cl *Cluster) LoadBalancerSecurityGroup() awsec2.ISecurityGroup { return cl.albSG }

// AppSecurityGroup implements cluster.ICluster.
func (cl *Cluster) AppSecurityGroup() awsec2.ISecurityGroup { return cl.appSG }

// Domain implements cluster.ICluster.
func (cl *Cluster) Domain() *string { return jsii.String(Domain) }

// HostedZone implements cluster.ICluster.
func (cl *Cluster) HostedZone() awsroute53.IHostedZone { return cl.zone }

// SharedLoadBalancer implements cluster.ICluster.
func (cl *Cluster) SharedLoadBalancer() awselasticloadbalancingv2.ILoadBalancerV2 { return cl.alb }

// LoadBalancerFullName implements cluster.ICluster.
func (cl *Cluster) LoadBalancerFullName() *string { return cl.alb.LoadBalancerFullName() }
