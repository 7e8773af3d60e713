package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func mainProps() *ClusterProps {
	return &ClusterProps{
		Name:              jsii.String("main"),
		AvailabilityZones: testAZs,
		Domain:            jsii.String("apps.example.com"),
		HostedZoneID:      jsii.String("Z0123456789ABC"),
		HostedZoneName:    jsii.String("example.com"),
	}
}

// TestCluster synthesizes one app with a default cluster stack and an app
// stack that uses the cluster by name, once, and checks every property of
// both templates.
func TestCluster(t *testing.T) {
	app := newTestApp(t)
	clusterStack := awscdk.NewStack(app, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: testEnv()})
	cl := NewCluster(clusterStack, "Cluster", mainProps())

	appStack := awscdk.NewStack(app, jsii.String("wharf-app-api"), &awscdk.StackProps{Env: testEnv()})
	ic := FromName(appStack, "Cluster", &FromNameProps{Name: jsii.String("main"), AvailabilityZones: testAZs})
	addTestService(appStack, ic)

	cdktest.AssertNagClean(t, clusterStack)
	synth, manifest := templates(t, app, clusterStack, appStack)
	main, consumer := synth[0], synth[1]

	t.Run("no missing context", func(t *testing.T) {
		if missing, ok := manifest["missing"]; ok {
			t.Errorf("synthesis recorded context lookups: %v", missing)
		}
	})

	t.Run("vpc over three zones without NAT", func(t *testing.T) {
		main.count(t, "AWS::EC2::VPC", 1)
		main.has(t, "AWS::EC2::VPC", map[string]interface{}{"CidrBlock": "10.100.0.0/16", "EnableDnsHostnames": true, "EnableDnsSupport": true})
		main.count(t, "AWS::EC2::NatGateway", 0)
		main.count(t, "AWS::EC2::EIP", 0)
		main.count(t, "AWS::EC2::InternetGateway", 1)
		main.count(t, "AWS::EC2::Subnet", 6)
		// The /16 is cut into /19 blocks: 3 public, then 3 private.
		want := map[string]string{
			"10.100.0.0/19": "eu-west-1a", "10.100.32.0/19": "eu-west-1b", "10.100.64.0/19": "eu-west-1c",
			"10.100.96.0/19": "eu-west-1a", "10.100.128.0/19": "eu-west-1b", "10.100.160.0/19": "eu-west-1c",
		}
		public := 0
		for id, p := range main.ofType("AWS::EC2::Subnet") {
			cidr, _ := p["CidrBlock"].(string)
			if want[cidr] != p["AvailabilityZone"] {
				t.Errorf("subnet %s: %v in %v, want one of %v", id, cidr, p["AvailabilityZone"], want)
			}
			delete(want, cidr)
			if p["MapPublicIpOnLaunch"] == true {
				public++
				if !strings.Contains(id, "Public") {
					t.Errorf("subnet %s maps public IPs but is not public", id)
				}
			}
		}
		if public != 3 || len(want) != 0 {
			t.Errorf("public subnets = %d (want 3), unmatched CIDRs %v", public, want)
		}
		// Only public subnets route to the internet gateway.
		for id, p := range main.ofType("AWS::EC2::Route") {
			if p["GatewayId"] == nil || !strings.Contains(id, "Public") {
				t.Errorf("unexpected route %s: %v", id, p)
			}
		}
		main.count(t, "AWS::EC2::Route", 3)
	})

	t.Run("s3 gateway endpoint on every route table", func(t *testing.T) {
		main.count(t, "AWS::EC2::VPCEndpoint", 1)
		eps := main.ofType("AWS::EC2::VPCEndpoint")
		for _, p := range eps {
			if p["VpcEndpointType"] != "Gateway" {
				t.Errorf("endpoint type %v, want Gateway", p["VpcEndpointType"])
			}
			if rts, _ := p["RouteTableIds"].([]interface{}); len(rts) != 6 {
				t.Errorf("endpoint on %d route tables, want 6", len(rts))
			}
			if !strings.HasSuffix(fmt.Sprint(p["ServiceName"]), ".s3]]]") {
				t.Errorf("endpoint service %v, want com.amazonaws.<region>.s3", p["ServiceName"])
			}
		}
	})

	t.Run("flow logs with retention", func(t *testing.T) {
		main.count(t, "AWS::EC2::FlowLog", 1)
		main.has(t, "AWS::EC2::FlowLog", map[string]interface{}{
			"ResourceType": "VPC", "ResourceId": ref("ClusterVpcFAA3CEDF"), "TrafficType": "ALL",
			"LogDestinationType": "cloud-watch-logs", "LogGroupName": ref("ClusterFlowLogs8372B953"),
		})
		main.has(t, "AWS::Logs::LogGroup", map[string]interface{}{"RetentionInDays": 30})
	})

	t.Run("ecs cluster with container insights and fargate providers", func(t *testing.T) {
		main.count(t, "AWS::ECS::Cluster", 1)
		main.has(t, "AWS::ECS::Cluster", map[string]interface{}{
			"ClusterName":     "wharf-main",
			"ClusterSettings": []interface{}{map[string]interface{}{"Name": "containerInsights", "Value": "enabled"}},
		})
		main.has(t, "AWS::ECS::ClusterCapacityProviderAssociations", map[string]interface{}{
			"CapacityProviders":               []interface{}{"FARGATE", "FARGATE_SPOT"},
			"DefaultCapacityProviderStrategy": []interface{}{map[string]interface{}{"CapacityProvider": "FARGATE", "Weight": 1}},
		})
		main.count(t, "AWS::AutoScaling::AutoScalingGroup", 0)
		main.count(t, "AWS::ECS::CapacityProvider", 0)
		main.count(t, "AWS::Lambda::Function", 0)
	})

	t.Run("load balancer", func(t *testing.T) {
		main.count(t, "AWS::ElasticLoadBalancingV2::LoadBalancer", 1)
		main.has(t, "AWS::ElasticLoadBalancingV2::LoadBalancer", map[string]interface{}{
			"Scheme": "internet-facing",
			"Type":   "application",
			"Subnets": []interface{}{
				ref("ClusterVpcPublicSubnet1SubnetA9F7E0A5"), ref("ClusterVpcPublicSubnet2Subnet059113C4"), ref("ClusterVpcPublicSubnet3Subnet3AB4E59C"),
			},
			"SecurityGroups": []interface{}{getAtt("ClusterLoadBalancerSecurityGroup468ACE1B", "GroupId")},
			"LoadBalancerAttributes": []interface{}{
				map[string]interface{}{"Key": "deletion_protection.enabled", "Value": "true"},
				map[string]interface{}{"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
				map[string]interface{}{"Key": "access_logs.s3.enabled", "Value": "true"},
				map[string]interface{}{"Key": "access_logs.s3.bucket", "Value": ref("ClusterAccessLogsB535E130")},
				map[string]interface{}{"Key": "access_logs.s3.prefix", "Value": "alb"},
			},
		})
	})

	t.Run("listeners: redirect and https with 404 default", func(t *testing.T) {
		main.count(t, "AWS::ElasticLoadBalancingV2::Listener", 2)
		main.has(t, "AWS::ElasticLoadBalancingV2::Listener", map[string]interface{}{
			"Port": 80, "Protocol": "HTTP",
			"DefaultActions": []interface{}{map[string]interface{}{
				"Type": "redirect",
				"RedirectConfig": map[string]interface{}{
					"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301",
				},
			}},
		})
		main.has(t, "AWS::ElasticLoadBalancingV2::Listener", map[string]interface{}{
			"Port": 443, "Protocol": "HTTPS",
			"SslPolicy":    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
			"Certificates": []interface{}{map[string]interface{}{"CertificateArn": ref("ClusterCertificateDAAAC54A")}},
			"DefaultActions": []interface{}{map[string]interface{}{
				"Type": "fixed-response",
				"FixedResponseConfig": map[string]interface{}{
					"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "not found",
				},
			}},
		})
		// Nothing else listens: no target groups, no rules in the cluster.
		main.count(t, "AWS::ElasticLoadBalancingV2::TargetGroup", 0)
		main.count(t, "AWS::ElasticLoadBalancingV2::ListenerRule", 0)
	})

	t.Run("wildcard certificate validated in the hosted zone", func(t *testing.T) {
		main.count(t, "AWS::CertificateManager::Certificate", 1)
		main.has(t, "AWS::CertificateManager::Certificate", map[string]interface{}{
			"DomainName":       "*.apps.example.com",
			"ValidationMethod": "DNS",
			"DomainValidationOptions": []interface{}{map[string]interface{}{
				"DomainName": "*.apps.example.com", "HostedZoneId": "Z0123456789ABC",
			}},
		})
	})

	t.Run("wildcard alias record", func(t *testing.T) {
		main.count(t, "AWS::Route53::RecordSet", 1)
		main.has(t, "AWS::Route53::RecordSet", map[string]interface{}{
			"Name": "*.apps.example.com.", "Type": "A", "HostedZoneId": "Z0123456789ABC",
			"AliasTarget": map[string]interface{}{
				"DNSName":      assertions.Match_AnyValue(),
				"HostedZoneId": getAtt("ClusterLoadBalancer47C87DEB", "CanonicalHostedZoneID"),
			},
		})
	})

	t.Run("encrypted access-log bucket", func(t *testing.T) {
		main.count(t, "AWS::S3::Bucket", 1)
		main.has(t, "AWS::S3::Bucket", map[string]interface{}{
			"BucketEncryption": map[string]interface{}{"ServerSideEncryptionConfiguration": []interface{}{
				map[string]interface{}{"ServerSideEncryptionByDefault": map[string]interface{}{"SSEAlgorithm": "AES256"}},
			}},
			"PublicAccessBlockConfiguration": map[string]interface{}{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"OwnershipControls": map[string]interface{}{"Rules": []interface{}{map[string]interface{}{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"LifecycleConfiguration": map[string]interface{}{"Rules": []interface{}{
				map[string]interface{}{"Id": "expire-access-logs", "ExpirationInDays": 90, "Status": "Enabled"},
			}},
		})
		cdktest.Check(t, func() {
			main.tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]interface{}{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
		})
		main.has(t, "AWS::S3::BucketPolicy", map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
				assertions.Match_ObjectLike(&map[string]interface{}{
					"Effect": "Deny", "Action": "s3:*", "Principal": map[string]interface{}{"AWS": "*"},
					"Condition": map[string]interface{}{"Bool": map[string]interface{}{"aws:SecureTransport": "false"}},
				}),
			})},
		})
	})

	t.Run("security groups: alb open on 80/443, app only from alb", func(t *testing.T) {
		main.count(t, "AWS::EC2::SecurityGroup", 2)
		main.has(t, "AWS::EC2::SecurityGroup", map[string]interface{}{
			"GroupDescription": "Wharf load balancer: HTTP and HTTPS from anywhere, out to app tasks only",
			"SecurityGroupIngress": []interface{}{
				map[string]interface{}{"CidrIp": "0.0.0.0/0", "Description": "HTTPS from anywhere", "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp"},
				map[string]interface{}{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere (redirected to HTTPS)", "FromPort": 80, "ToPort": 80, "IpProtocol": "tcp"},
			},
			"SecurityGroupEgress": assertions.Match_Absent(),
		})
		main.has(t, "AWS::EC2::SecurityGroup", map[string]interface{}{
			"GroupDescription":     "Wharf app tasks: inbound from the load balancer only",
			"SecurityGroupIngress": assertions.Match_Absent(),
		})
		main.count(t, "AWS::EC2::SecurityGroupIngress", 1)
		main.has(t, "AWS::EC2::SecurityGroupIngress", map[string]interface{}{
			"GroupId":               getAtt("ClusterAppSecurityGroup908C53E8", "GroupId"),
			"SourceSecurityGroupId": getAtt("ClusterLoadBalancerSecurityGroup468ACE1B", "GroupId"),
			"IpProtocol":            "tcp", "FromPort": 0, "ToPort": 65535,
		})
		main.count(t, "AWS::EC2::SecurityGroupEgress", 1)
		main.has(t, "AWS::EC2::SecurityGroupEgress", map[string]interface{}{
			"GroupId":                    getAtt("ClusterLoadBalancerSecurityGroup468ACE1B", "GroupId"),
			"DestinationSecurityGroupId": getAtt("ClusterAppSecurityGroup908C53E8", "GroupId"),
			"IpProtocol":                 "tcp", "FromPort": 0, "ToPort": 65535,
		})
	})

	t.Run("published parameters", func(t *testing.T) {
		params := main.ofType("AWS::SSM::Parameter")
		if len(params) != len(ParameterKeys) {
			t.Errorf("%d parameters, want %d", len(params), len(ParameterKeys))
		}
		byName := map[string]interface{}{}
		for _, p := range params {
			if p["Type"] != "String" {
				t.Errorf("parameter %v has type %v, want String", p["Name"], p["Type"])
			}
			byName[p["Name"].(string)] = p["Value"]
		}
		literal := map[string]string{
			ParamAvailabilityZones: "eu-west-1a,eu-west-1b,eu-west-1c",
			ParamDomain:            "apps.example.com",
			ParamHostedZoneID:      "Z0123456789ABC",
			ParamHostedZoneName:    "example.com",
		}
		for _, key := range ParameterKeys {
			name := "/wharf/clusters/main/" + key
			v, ok := byName[name]
			if !ok {
				t.Errorf("parameter %s missing", name)
				continue
			}
			if want, ok := literal[key]; ok && v != want {
				t.Errorf("%s = %v, want %q", name, v, want)
			}
		}
		main.has(t, "AWS::SSM::Parameter", map[string]interface{}{"Name": "/wharf/clusters/main/vpc-id", "Value": ref("ClusterVpcFAA3CEDF")})
		main.has(t, "AWS::SSM::Parameter", map[string]interface{}{"Name": "/wharf/clusters/main/https-listener-arn", "Value": ref("ClusterLoadBalancerHttps33D02691")})
		main.has(t, "AWS::SSM::Parameter", map[string]interface{}{
			"Name": "/wharf/clusters/main/public-subnet-ids",
			"Value": map[string]interface{}{"Fn::Join": []interface{}{",", []interface{}{
				ref("ClusterVpcPublicSubnet1SubnetA9F7E0A5"), ref("ClusterVpcPublicSubnet2Subnet059113C4"), ref("ClusterVpcPublicSubnet3Subnet3AB4E59C"),
			}}},
		})
		main.has(t, "AWS::SSM::Parameter", map[string]interface{}{
			"Name": "/wharf/clusters/main/private-subnet-ids",
			"Value": map[string]interface{}{"Fn::Join": []interface{}{",", []interface{}{
				ref("ClusterVpcPrivateSubnet1SubnetA4EB481A"), ref("ClusterVpcPrivateSubnet2SubnetBD1ECB6E"), ref("ClusterVpcPrivateSubnet3Subnet2479B8E0"),
			}}},
		})
		if len(cl.Parameters) != len(ParameterKeys) {
			t.Errorf("Cluster.Parameters has %d entries, want %d", len(cl.Parameters), len(ParameterKeys))
		}
	})

	t.Run("pinned logical IDs of stateful resources", func(t *testing.T) {
		main.expectLogicalID(t, "AWS::EC2::VPC", "ClusterVpcFAA3CEDF")
		main.expectLogicalID(t, "AWS::ElasticLoadBalancingV2::LoadBalancer", "ClusterLoadBalancer47C87DEB")
		main.expectLogicalID(t, "AWS::ElasticLoadBalancingV2::Listener", "ClusterLoadBalancerHttps33D02691")
		main.expectLogicalID(t, "AWS::S3::Bucket", "ClusterAccessLogsB535E130")
		main.expectLogicalID(t, "AWS::CertificateManager::Certificate", "ClusterCertificateDAAAC54A")
		main.expectLogicalID(t, "AWS::ECS::Cluster", "ClusterEcs153FAA9A")
		main.expectLogicalID(t, "AWS::Logs::LogGroup", "ClusterFlowLogs8372B953")
		main.expectLogicalID(t, "AWS::EC2::SecurityGroup", "ClusterLoadBalancerSecurityGroup468ACE1B")
		main.expectLogicalID(t, "AWS::EC2::SecurityGroup", "ClusterAppSecurityGroup908C53E8")
		pinned := map[string]string{
			ParamVpcID: "ClusterParametersvpcid9517530E", ParamVpcCidr: "ClusterParametersvpccidrFBC8DAB8",
			ParamAvailabilityZones: "ClusterParametersavailabilityzones75CF9A6F", ParamPublicSubnetIDs: "ClusterParameterspublicsubnetids3F7B8C0A",
			ParamPrivateSubnetIDs: "ClusterParametersprivatesubnetidsB8E998CC", ParamEcsClusterName: "ClusterParametersecsclusternameC08E97E8",
			ParamEcsClusterArn: "ClusterParametersecsclusterarn4B67D2D4", ParamLoadBalancerArn: "ClusterParametersloadbalancerarn7C9F1E72",
			ParamLoadBalancerFullName: "ClusterParametersloadbalancerfullnameDC704AB3", ParamLoadBalancerDNSName: "ClusterParametersloadbalancerdnsname5E4B84DA",
			ParamLoadBalancerHostedZoneID: "ClusterParametersloadbalancerhostedzoneid7C6238C8", ParamHTTPSListenerArn: "ClusterParametershttpslistenerarn1F49EF0F",
			ParamLoadBalancerSecurityGroupID: "ClusterParametersloadbalancersecuritygroupidA414725C", ParamAppSecurityGroupID: "ClusterParametersappsecuritygroupid4B198325",
			ParamDomain: "ClusterParametersdomain67E48E5F", ParamHostedZoneID: "ClusterParametershostedzoneidBA0D7AA3",
			ParamHostedZoneName: "ClusterParametershostedzonename71D006E9",
		}
		if len(pinned) != len(ParameterKeys) {
			t.Errorf("pinned %d parameter IDs, published %d", len(pinned), len(ParameterKeys))
		}
		for _, id := range pinned {
			main.expectLogicalID(t, "AWS::SSM::Parameter", id)
		}
	})

	t.Run("live cluster implements ICluster", func(t *testing.T) {
		if *cl.ClusterName() != "main" || *cl.Domain() != "apps.example.com" {
			t.Errorf("ClusterName/Domain = %q/%q", *cl.ClusterName(), *cl.Domain())
		}
		if n := len(*cl.Vpc().PublicSubnets()); n != 3 {
			t.Errorf("%d public subnets, want 3", n)
		}
		if n := len(*cl.Vpc().IsolatedSubnets()); n != 3 {
			t.Errorf("%d isolated subnets, want 3", n)
		}
	})

	t.Run("no exports in either stack", func(t *testing.T) {
		main.noExports(t)
		consumer.noExports(t)
	})

	t.Run("FromName reads every attribute from SSM at deploy time", func(t *testing.T) {
		params, _ := consumer.raw["Parameters"].(map[string]interface{})
		got := []string{}
		for _, p := range params {
			p := p.(map[string]interface{})
			def, _ := p["Default"].(string)
			if !strings.HasPrefix(def, "/wharf/clusters/main/") {
				continue
			}
			if p["Type"] != "AWS::SSM::Parameter::Value<String>" {
				t.Errorf("parameter %s has type %v", def, p["Type"])
			}
			got = append(got, strings.TrimPrefix(def, "/wharf/clusters/main/"))
		}
		sort.Strings(got)
		// The test service uses the VPC subnets, both security groups, the
		// cluster ARN and name, and the HTTPS listener.
		for _, key := range []string{ParamPublicSubnetIDs, ParamAppSecurityGroupID, ParamEcsClusterName, ParamHTTPSListenerArn, ParamVpcID, ParamDomain} {
			if !sortedContains(got, key) {
				t.Errorf("consumer does not read %s; reads %v", key, got)
			}
		}
	})

	t.Run("FromName adds no noise to dependants", func(t *testing.T) {
		// No unused vpc-cidr parameter (CloudFormation's W2001) and no
		// route-table warning for the imported subnets.
		if p := findParamOrEmpty(consumer, "/wharf/clusters/main/vpc-cidr"); p != "" {
			t.Errorf("consumer declares the unused parameter %s", p)
		}
		// The app is synthesized already; Synth returns that assembly.
		files, _ := filepath.Glob(filepath.Join(*app.Synth(nil).Directory(), "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "No routeTableId was provided") {
				t.Errorf("%s carries CDK's route-table warning for imported subnets", filepath.Base(f))
			}
		}
	})

	t.Run("FromName cluster accepts listener rules and services", func(t *testing.T) {
		listenerParam := findParam(t, consumer, "/wharf/clusters/main/https-listener-arn")
		consumer.has(t, "AWS::ElasticLoadBalancingV2::ListenerRule", map[string]interface{}{
			"ListenerArn": ref(listenerParam),
			"Priority":    10,
		})
		subnetsParam := findParam(t, consumer, "/wharf/clusters/main/public-subnet-ids")
		sgParam := findParam(t, consumer, "/wharf/clusters/main/app-security-group-id")
		split := map[string]interface{}{"Fn::Split": []interface{}{",", ref(subnetsParam)}}
		consumer.has(t, "AWS::ECS::Service", map[string]interface{}{
			"NetworkConfiguration": map[string]interface{}{"AwsvpcConfiguration": map[string]interface{}{
				"AssignPublicIp": "ENABLED",
				"SecurityGroups": []interface{}{ref(sgParam)},
				"Subnets": []interface{}{
					map[string]interface{}{"Fn::Select": []interface{}{0, split}},
					map[string]interface{}{"Fn::Select": []interface{}{1, split}},
					map[string]interface{}{"Fn::Select": []interface{}{2, split}},
				},
			}},
		})
		consumer.has(t, "AWS::ElasticLoadBalancingV2::TargetGroup", map[string]interface{}{
			"VpcId": ref(findParam(t, consumer, "/wharf/clusters/main/vpc-id")),
		})
		// The cluster's security groups are immutable in the consumer: it
		// adds no rules to them (the ALB to app rule already exists).
		consumer.count(t, "AWS::EC2::SecurityGroupIngress", 0)
		consumer.count(t, "AWS::EC2::SecurityGroupEgress", 0)
		consumer.count(t, "AWS::EC2::SecurityGroup", 0)
	})
}

// addTestService adds what an app stack does with a cluster: a Fargate
// service in the public subnets with the app security group, registered in
// a target group behind a host-header rule on the shared HTTPS listener.
func addTestService(scope awscdk.Stack, ic ICluster) {
	td := awsecs.NewFargateTaskDefinition(scope, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{})
	td.AddContainer(jsii.String("web"), &awsecs.ContainerDefinitionOptions{
		Image:        awsecs.ContainerImage_FromRegistry(jsii.String("public.ecr.aws/nginx/nginx:latest"), nil),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(8080)}},
	})
	svc := awsecs.NewFargateService(scope, jsii.String("Web"), &awsecs.FargateServiceProps{
		Cluster:        ic.EcsCluster(),
		TaskDefinition: td,
		AssignPublicIp: jsii.Bool(true),
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		SecurityGroups: &[]awsec2.ISecurityGroup{ic.AppSecurityGroup()},
	})
	tg := elbv2.NewApplicationTargetGroup(scope, jsii.String("Tg"), &elbv2.ApplicationTargetGroupProps{
		Vpc:        ic.Vpc(),
		Port:       jsii.Number(8080),
		Protocol:   elbv2.ApplicationProtocol_HTTP,
		TargetType: elbv2.TargetType_IP,
		Targets:    &[]elbv2.IApplicationLoadBalancerTarget{svc},
	})
	elbv2.NewApplicationListenerRule(scope, jsii.String("Rule"), &elbv2.ApplicationListenerRuleProps{
		Listener:     ic.HttpsListener(),
		Priority:     jsii.Number(10),
		Conditions:   &[]elbv2.ListenerCondition{elbv2.ListenerCondition_HostHeaders(jsii.Strings(*awscdk.Fn_Join(jsii.String("."), jsii.Strings("api", *ic.Domain()))))},
		TargetGroups: &[]elbv2.IApplicationTargetGroup{tg},
	})
}

// findParam returns the logical ID of the template parameter whose default
// is the SSM parameter name.
func findParam(t *testing.T, s synthesized, name string) string {
	t.Helper()
	id := findParamOrEmpty(s, name)
	if id == "" {
		t.Fatalf("no template parameter reads %s", name)
	}
	return id
}

// findParamOrEmpty returns the logical ID of the parameter reading the SSM
// parameter name, or "".
func findParamOrEmpty(s synthesized, name string) string {
	params, _ := s.raw["Parameters"].(map[string]interface{})
	for id, p := range params {
		if p.(map[string]interface{})["Default"] == name {
			return id
		}
	}
	return ""
}

func sortedContains(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}
