package cluster

import (
	"encoding/json"
	"regexp"
	"strings"
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

	// A hostile task on an EC2 container instance goes for the instance
	// role through the instance metadata service, or asks for a privileged
	// container to take over the host.
	t.Run("tasks cannot reach the instance or become privileged", func(t *testing.T) {
		lts := s.ofType("AWS::EC2::LaunchTemplate")
		if len(lts) != 1 {
			t.Fatalf("%d launch templates, want 1", len(lts))
		}
		var script string
		for _, p := range lts {
			script = userDataScript(t, p["LaunchTemplateData"].(map[string]interface{})["UserData"])
		}
		config := map[string]string{}
		for _, line := range strings.Split(script, "\n") {
			// Lines that append KEY=VALUE to /etc/ecs/ecs.config.
			if m := ecsConfigLine.FindStringSubmatch(line); m != nil {
				config[m[1]] = m[2]
			}
		}
		for k, want := range map[string]string{
			// awsvpc tasks cannot reach the instance metadata service.
			"ECS_AWSVPC_BLOCK_IMDS": "true",
			// The agent refuses task definitions with privileged: true.
			"ECS_DISABLE_PRIVILEGED": "true",
			"ECS_CLUSTER":            "<ClusterEcs153FAA9A>",
		} {
			if got := config[k]; got != want {
				t.Errorf("ecs.config %s = %q, want %q; user data:\n%s", k, got, want, script)
			}
		}
		// Bridge-mode containers are one hop further than the instance: the
		// IMDSv2-only metadata options with a hop limit of 1 (checked above)
		// keep the token response from reaching them. (An iptables rule
		// would be lost on reboot: user data runs once and AL2023 does not
		// save iptables rules.)
	})

	t.Run("the instance role holds only what the ECS agent needs", func(t *testing.T) {
		roles := 0
		for id, p := range s.ofType("AWS::IAM::Role") {
			doc, _ := json.Marshal(p["AssumeRolePolicyDocument"])
			if !strings.Contains(string(doc), "ec2.amazonaws.com") {
				continue
			}
			roles++
			if p["ManagedPolicyArns"] != nil || p["Policies"] != nil {
				t.Errorf("instance role %s has managed or inline policies: %v %v", id, p["ManagedPolicyArns"], p["Policies"])
			}
		}
		if roles != 1 {
			t.Fatalf("%d instance roles, want 1", roles)
		}
		agent := map[string]bool{
			"ecs:DeregisterContainerInstance": true, "ecs:RegisterContainerInstance": true, "ecs:Submit*": true,
			"ecs:Poll": true, "ecs:StartTelemetrySession": true, "ecs:DiscoverPollEndpoint": true,
			"ecr:GetAuthorizationToken": true, "logs:CreateLogStream": true, "logs:PutLogEvents": true,
		}
		for id, p := range s.ofType("AWS::IAM::Policy") {
			doc, _ := json.Marshal(p["Roles"])
			if !strings.Contains(string(doc), "Ec2InstanceRole") {
				continue
			}
			for _, st := range p["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
				acts := st.(map[string]interface{})["Action"]
				list, ok := acts.([]interface{})
				if !ok {
					list = []interface{}{acts}
				}
				for _, a := range list {
					if !agent[a.(string)] {
						t.Errorf("instance role policy %s grants %v, which the ECS agent does not need", id, a)
					}
				}
			}
		}
	})
}

var ecsConfigLine = regexp.MustCompile(`^\s*(?:sudo\s+)?echo\s+"?([A-Z_]+)=([^"\s]*)"?\s+>>\s*/etc/ecs/ecs\.config\s*$`)

// userDataScript renders a launch template's UserData (Fn::Base64 of a
// string or an Fn::Join) as text, with each reference shown as <LogicalID>.
func userDataScript(t *testing.T, ud interface{}) string {
	t.Helper()
	var render func(v interface{}) string
	render = func(v interface{}) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]interface{}:
			if b, ok := x["Fn::Base64"]; ok {
				return render(b)
			}
			if r, ok := x["Ref"]; ok {
				return "<" + r.(string) + ">"
			}
			if j, ok := x["Fn::Join"].([]interface{}); ok {
				var parts []string
				for _, p := range j[1].([]interface{}) {
					parts = append(parts, render(p))
				}
				return strings.Join(parts, j[0].(string))
			}
		}
		t.Fatalf("cannot render user data part %v", v)
		return ""
	}
	return render(ud)
}
