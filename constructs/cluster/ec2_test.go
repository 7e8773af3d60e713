package cluster

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

// TestClusterEc2 synthesizes a cluster with every optional prop set: a
// custom prefix, a /24 CIDR, EC2 capacity on Graviton instances and
// non-default retention.
func TestClusterEc2(t *testing.T) {
	app := newTestApp(t)
	stack := awscdk.NewStack(app, jsii.String("acme-cluster-edge"), &awscdk.StackProps{Env: testEnv()})
	cl := NewCluster(stack, "Cluster", &ClusterProps{
		Prefix:                 jsii.String("acme"),
		Name:                   jsii.String("edge"),
		Cidr:                   jsii.String("10.20.0.0/24"),
		AvailabilityZones:      []string{"eu-west-1c", "eu-west-1a", "eu-west-1b"},
		Domain:                 jsii.String("example.org"),
		HostedZoneID:           jsii.String("Z9ZZZZZZZZZZZZ"),
		HostedZoneName:         jsii.String("example.org."),
		FlowLogRetentionDays:   intp(90),
		AccessLogRetentionDays: intp(30),
		Ec2Capacity: &Ec2CapacityProps{
			InstanceType: jsii.String("t4g.medium"),
			MinCapacity:  intp(0),
			MaxCapacity:  intp(2),
		},
	})
	cdktest.AssertNagClean(t, stack)
	synth, _ := templates(t, app, stack)
	s := synth[0]

	t.Run("prefix and name", func(t *testing.T) {
		s.has(t, "AWS::ECS::Cluster", map[string]interface{}{"ClusterName": "acme-edge"})
		s.has(t, "AWS::SSM::Parameter", map[string]interface{}{"Name": "/acme/clusters/edge/domain", "Value": "example.org"})
		s.has(t, "AWS::SSM::Parameter", map[string]interface{}{"Name": "/acme/clusters/edge/hosted-zone-name", "Value": "example.org"})
		s.has(t, "AWS::SSM::Parameter", map[string]interface{}{"Name": "/acme/clusters/edge/availability-zones", "Value": "eu-west-1c,eu-west-1a,eu-west-1b"})
		s.has(t, "AWS::CertificateManager::Certificate", map[string]interface{}{"DomainName": "*.example.org"})
		s.has(t, "AWS::Route53::RecordSet", map[string]interface{}{"Name": "*.example.org.", "HostedZoneId": "Z9ZZZZZZZZZZZZ"})
		if cl.AutoScalingGroup == nil {
			t.Error("AutoScalingGroup is nil with Ec2Capacity set")
		}
	})

	t.Run("a /24 is cut into /27 subnets in zone order", func(t *testing.T) {
		want := map[string]string{
			"10.20.0.0/27": "eu-west-1c", "10.20.0.32/27": "eu-west-1a", "10.20.0.64/27": "eu-west-1b",
			"10.20.0.96/27": "eu-west-1c", "10.20.0.128/27": "eu-west-1a", "10.20.0.160/27": "eu-west-1b",
		}
		subnets := s.ofType("AWS::EC2::Subnet")
		if len(subnets) != 6 {
			t.Errorf("%d subnets, want 6", len(subnets))
		}
		for id, p := range subnets {
			cidr, _ := p["CidrBlock"].(string)
			if az, ok := want[cidr]; !ok || az != p["AvailabilityZone"] {
				t.Errorf("subnet %s: %s in %v not expected", id, cidr, p["AvailabilityZone"])
			}
		}
		s.count(t, "AWS::EC2::NatGateway", 0)
	})

	t.Run("retention", func(t *testing.T) {
		s.has(t, "AWS::Logs::LogGroup", map[string]interface{}{"RetentionInDays": 90})
		s.has(t, "AWS::S3::Bucket", map[string]interface{}{"LifecycleConfiguration": map[string]interface{}{"Rules": []interface{}{
			map[string]interface{}{"Id": "expire-access-logs", "ExpirationInDays": 30, "Status": "Enabled"},
		}}})
	})

	t.Run("ec2 capacity", func(t *testing.T) {
		s.count(t, "AWS::AutoScaling::AutoScalingGroup", 1)
		s.has(t, "AWS::AutoScaling::AutoScalingGroup", map[string]interface{}{
			"MinSize": "0", "MaxSize": "2",
			"VPCZoneIdentifier": []interface{}{
				ref("ClusterVpcPublicSubnet1SubnetA9F7E0A5"), ref("ClusterVpcPublicSubnet2Subnet059113C4"), ref("ClusterVpcPublicSubnet3Subnet3AB4E59C"),
			},
		})
		s.has(t, "AWS::EC2::LaunchTemplate", map[string]interface{}{"LaunchTemplateData": map[string]interface{}{
			"InstanceType":      "t4g.medium",
			"MetadataOptions":   map[string]interface{}{"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
			"NetworkInterfaces": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{"AssociatePublicIpAddress": true, "DeviceIndex": 0})},
			"BlockDeviceMappings": []interface{}{map[string]interface{}{
				"DeviceName": "/dev/xvda",
				"Ebs":        map[string]interface{}{"Encrypted": true, "VolumeSize": 30, "VolumeType": "gp3"},
			}},
		}})
		// The ECS-optimized AMI is resolved from its public SSM parameter
		// at deploy time (arm64 for a Graviton instance type).
		found := false
		params, _ := s.raw["Parameters"].(map[string]interface{})
		for _, p := range params {
			if p.(map[string]interface{})["Default"] == "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id" {
				found = true
			}
		}
		if !found {
			t.Errorf("no template parameter for the arm64 ECS-optimized AMI; parameters: %v", params)
		}
		s.count(t, "AWS::ECS::CapacityProvider", 1)
		s.has(t, "AWS::ECS::CapacityProvider", map[string]interface{}{"AutoScalingGroupProvider": map[string]interface{}{
			"ManagedDraining":              "ENABLED",
			"ManagedTerminationProtection": "DISABLED",
		}})
		s.has(t, "AWS::ECS::ClusterCapacityProviderAssociations", map[string]interface{}{
			"CapacityProviders": []interface{}{"FARGATE", "FARGATE_SPOT", assertions.Match_AnyValue()},
		})
		// Managed draining: no drain-hook Lambda or SNS topic.
		s.count(t, "AWS::Lambda::Function", 0)
		s.count(t, "AWS::SNS::Topic", 0)
	})
}
