package controlplanestack_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
)

// A control plane in its own account serving one customer account with one
// app. The Lambda is built from lambda/controlplane at synth; the registry
// reaches it as the file /opt/wharf/registry.json of a Lambda layer
// (cp.RegistryLayer), so it is not bounded by Lambda's 4 KB environment.
func ExampleNewControlPlane() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("wharf-controlplane"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("999988887777"), Region: jsii.String("eu-west-1")},
	})
	cp := controlplanestack.NewControlPlane(stack, "ControlPlane", &controlplanestack.ControlPlaneProps{
		Prefix: jsii.String("wharf"),
		Registry: &controlplanestack.Registry{
			Accounts: []controlplanestack.AccountRegistration{{
				AccountID:       "111122223333",
				ObserverRoleARN: "arn:aws:iam::111122223333:role/wharf-account-observer",
				ExternalID:      "observer-7f3a",
			}},
			Apps: []controlplanestack.AppRegistration{{
				Name:              "api",
				AccountID:         "111122223333",
				Region:            "eu-west-1",
				ManagementRoleARN: "arn:aws:iam::111122223333:role/wharf-app-api-management",
				ExternalID:        "api-91c2",
			}},
		},
		SweepInterval: awscdk.Duration_Minutes(jsii.Number(2)),
	})
	// The customer accounts' forwarding rules target this bus.
	awscdk.NewCfnOutput(stack, jsii.String("EventBusArn"), &awscdk.CfnOutputProps{Value: cp.EventBus.EventBusArn()})
	app.Synth(nil)
	fmt.Println(controlplanestack.EventBusName(cp.Prefix))
	fmt.Println(controlplanestack.RegistryFilePath)
	// Output:
	// wharf-controlplane
	// /opt/wharf/registry.json
}
