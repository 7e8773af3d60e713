package app_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/contract"
)

// An app on the cluster "main" with its own database in the Wharf database
// "main", both referenced by name (their stacks are deployed first).
func ExampleNewApp() {
	cdkApp := awscdk.NewApp(nil)
	stack := awscdk.NewStack(cdkApp, jsii.String("wharf-app-api"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")},
	})
	c := cluster.FromName(stack, "Cluster", &cluster.FromNameProps{
		Name:              jsii.String("main"),
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
	})
	a := app.NewApp(stack, "App", &app.AppProps{
		Name:                    jsii.String("api"),
		Cluster:                 c,
		RepositoryURL:           jsii.String("https://github.com/acme/api"),
		ConnectionArn:           jsii.String("arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d"),
		Domains:                 app.DomainNames("api.acme.com"),
		HealthCheckPath:         jsii.String("/healthz"),
		DatabaseName:            jsii.String("main"),
		AllowedUsers:            []string{"alice@acme.com"},
		OIDCIssuerURL:           jsii.String("https://login.acme.com"),
		OIDCClientIDs:           []string{"wharf"},
		ControlPlaneAccountID:   jsii.String("999988887777"),
		ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:999988887777:event-bus/wharf-controlplane"),
		ManagementExternalID:    jsii.String("9f6c1d2e-api"),
	})
	asm := cdkApp.Synth(nil)
	fmt.Println(a.Name, len(*asm.Stacks()))
	fmt.Println(contract.Names{Prefix: a.Prefix}.SettingsParameter(a.Name))
	fmt.Println(contract.Names{Prefix: a.Prefix}.ManagementRole(a.Name))
	// Output:
	// api 1
	// /wharf/apps/api/settings
	// wharf-app-api-management
}
