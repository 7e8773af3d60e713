package cluster_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/cluster"
)

// A cluster stack with the platform's defaults: 10.100.0.0/16 over three
// zones, Fargate only, apps served under *.apps.example.com.
func ExampleNewCluster() {
	app := awscdk.NewApp(nil)
	azs := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}
	// Before any stack exists: record the zones so that synthesis makes no
	// availability-zone lookup.
	if err := cluster.SetAvailabilityZonesContext(app, "111122223333", "eu-west-1", azs); err != nil {
		fmt.Println(err)
		return
	}
	stack := awscdk.NewStack(app, jsii.String("wharf-cluster-main"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")},
	})
	props := &cluster.ClusterProps{
		Name:              jsii.String("main"),
		AvailabilityZones: azs,
		Domain:            jsii.String("apps.example.com"),
		HostedZoneID:      jsii.String("Z0123456789ABC"),
		HostedZoneName:    jsii.String("example.com"),
	}
	if err := props.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	cl := cluster.NewCluster(stack, "Cluster", props)
	fmt.Println(*cl.ClusterName(), *cl.Domain(), len(*cl.Vpc().PublicSubnets()))
	fmt.Println(cluster.ParameterName("wharf", "main", cluster.ParamHTTPSListenerArn))
	// Output:
	// main apps.example.com 3
	// /wharf/clusters/main/https-listener-arn
}

// An app stack in another CDK app uses the cluster by name: its attributes
// are SSM parameters resolved at deploy time, not CloudFormation exports.
func ExampleFromName() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("wharf-app-api"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")},
	})
	cl := cluster.FromName(stack, "Cluster", &cluster.FromNameProps{
		Name:              jsii.String("main"),
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
	})
	fmt.Println(*cl.ClusterName(), len(*cl.Vpc().PublicSubnets()))
	// Output:
	// main 3
}
