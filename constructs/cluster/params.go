package cluster

// Keys of the SSM String parameters a Cluster publishes under
// ParameterPrefix(prefix, name). Lists are comma-separated, in availability
// zone order.
const (
	ParamVpcID                       = "vpc-id"
	ParamVpcCidr                     = "vpc-cidr"
	ParamAvailabilityZones           = "availability-zones"
	ParamPublicSubnetIDs             = "public-subnet-ids"
	ParamPrivateSubnetIDs            = "private-subnet-ids"
	ParamEcsClusterName              = "ecs-cluster-name"
	ParamEcsClusterArn               = "ecs-cluster-arn"
	ParamLoadBalancerArn             = "load-balancer-arn"
	ParamLoadBalancerFullName        = "load-balancer-full-name"
	ParamLoadBalancerDNSName         = "load-balancer-dns-name"
	ParamLoadBalancerHostedZoneID    = "load-balancer-hosted-zone-id"
	ParamHTTPSListenerArn            = "https-listener-arn"
	ParamLoadBalancerSecurityGroupID = "load-balancer-security-group-id"
	ParamAppSecurityGroupID          = "app-security-group-id"
	ParamDomain                      = "domain"
	ParamHostedZoneID                = "hosted-zone-id"
	ParamHostedZoneName              = "hosted-zone-name"
)

// ParameterKeys lists every key a Cluster publishes, in a stable order.
var ParameterKeys = []string{
	ParamVpcID, ParamVpcCidr, ParamAvailabilityZones, ParamPublicSubnetIDs, ParamPrivateSubnetIDs,
	ParamEcsClusterName, ParamEcsClusterArn,
	ParamLoadBalancerArn, ParamLoadBalancerFullName, ParamLoadBalancerDNSName, ParamLoadBalancerHostedZoneID,
	ParamHTTPSListenerArn, ParamLoadBalancerSecurityGroupID, ParamAppSecurityGroupID,
	ParamDomain, ParamHostedZoneID, ParamHostedZoneName,
}

// ParameterName is the full SSM name of one published attribute:
// /<prefix>/clusters/<name>/<key>.
func ParameterName(prefix, name, key string) string {
	return ParameterPrefix(prefix, name) + key
}
