// Command consumer is a CDK app in its own Go module that imports Wharf's
// constructs the way another team would (go get, here through a replace
// directive to the checkout). It synthesizes a cluster stack, an app stack
// that finds the cluster by name (the README's example) and a control plane
// stack, whose Lambda Wharf builds at synth time from its own module.
// test/consumer_test.go runs it.
//
// Usage: go run . <output dir>
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	wharfapp "github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/cluster"
	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: consumer <output dir>")
		os.Exit(2)
	}
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.Args[1])})
	env := &awscdk.Environment{Account: jsii.String("444455556666"), Region: jsii.String("us-east-2")}
	azs := []string{"us-east-2a", "us-east-2b", "us-east-2c"}

	network := awscdk.NewStack(app, jsii.String("consumer-cluster"), &awscdk.StackProps{Env: env})
	if err := cluster.SetAvailabilityZonesContext(network, *env.Account, *env.Region, azs); err != nil {
		panic(err)
	}
	cluster.NewCluster(network, "Cluster", &cluster.ClusterProps{
		Prefix:            jsii.String("acme"),
		Name:              jsii.String("shared"),
		AvailabilityZones: azs,
		Domain:            jsii.String("apps.acme.example"),
		HostedZoneID:      jsii.String("Z0987654321ZYXWVUTSRQ"),
		HostedZoneName:    jsii.String("acme.example"),
	})

	svc := awscdk.NewStack(app, jsii.String("consumer-app"), &awscdk.StackProps{Env: env})
	svc.AddStackDependency(network, jsii.String("reads the cluster's SSM parameters"))
	wharfapp.NewApp(svc, "App", &wharfapp.AppProps{
		Prefix: jsii.String("acme"),
		Name:   jsii.String("shop"),
		Cluster: cluster.FromName(svc, "Cluster", &cluster.FromNameProps{
			Prefix: jsii.String("acme"), Name: jsii.String("shared"), AvailabilityZones: azs,
		}),
		RepositoryURL:           jsii.String("https://github.com/acme/shop.git"),
		ControlPlaneAccountID:   jsii.String("444455556666"),
		ControlPlaneEventBusArn: jsii.String("arn:aws:events:us-east-2:444455556666:event-bus/acme-controlplane"),
		ManagementExternalID:    jsii.String("acme-shop-5678"),
	})

	cp := awscdk.NewStack(app, jsii.String("consumer-controlplane"), &awscdk.StackProps{Env: env})
	controlplanestack.NewControlPlane(cp, "ControlPlane", &controlplanestack.ControlPlaneProps{
		Prefix: jsii.String("acme"),
		Registry: &controlplanestack.Registry{
			Accounts: []controlplanestack.AccountRegistration{{
				AccountID:       "444455556666",
				ObserverRoleARN: "arn:aws:iam::444455556666:role/acme-account-observer",
				ExternalID:      "acme-observer-1234",
			}},
		},
	})
	app.Synth(nil)
}
