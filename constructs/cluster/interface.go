package cluster

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/wharf-paas/wharf/contract"
)

// ICluster is what an app or a database needs from a Wharf cluster. A live
// *Cluster implements it, and so does the value returned by FromName, which
// reads the cluster's published SSM parameters at deploy time so that
// dependants in other stacks or CDK apps need no CloudFormation exports.
type ICluster interface {
	constructs.IConstruct
	// ClusterName is the Wharf name of the cluster (not the ECS cluster name).
	ClusterName() *string
	// Vpc is the cluster's VPC: three public and three private subnets.
	Vpc() awsec2.IVpc
	// EcsCluster is the ECS cluster apps run in.
	EcsCluster() awsecs.ICluster
	// HttpsListener is the shared load balancer's HTTPS listener; apps add
	// listener rules to it.
	HttpsListener() awselasticloadbalancingv2.IApplicationListener
	// LoadBalancerSecurityGroup is the load balancer's security group.
	LoadBalancerSecurityGroup() awsec2.ISecurityGroup
	// AppSecurityGroup accepts traffic only from the load balancer; app tasks
	// and database clients use it.
	AppSecurityGroup() awsec2.ISecurityGroup
	// Domain is the cluster domain; apps are served at <app>.<domain>.
	Domain() *string
	// HostedZone is the Route53 zone of Domain.
	HostedZone() awsroute53.IHostedZone
	// SharedLoadBalancer is the shared load balancer as the target of DNS
	// records: its DNS name and canonical hosted zone (an app's custom
	// domains alias to it).
	SharedLoadBalancer() awselasticloadbalancingv2.ILoadBalancerV2
	// LoadBalancerFullName is the shared load balancer's full name,
	// app/<name>/<id>: the first half of the Application Auto Scaling
	// resource label of an app's target group (ALBRequestCountPerTarget).
	LoadBalancerFullName() *string
}

// ParameterPrefix is the SSM path under which a cluster publishes its
// attributes: /<prefix>/clusters/<name>/.
func ParameterPrefix(prefix, name string) string {
	return contract.Names{Prefix: prefix}.ClusterParameterPath(name)
}
