package account_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/account"
)

// The account stack of a Wharf installation: users log in at an OIDC
// issuer, two of them are administrators, and the control plane runs in
// another account.
func ExampleNewAccount() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("wharf-account"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")},
	})
	props := &account.AccountProps{
		OIDCIssuerURL:           jsii.String("https://login.example.com"),
		OIDCClientIDs:           []string{"wharf-cli"},
		Administrators:          []string{"alice@example.com", "bob@example.com"},
		ControlPlaneAccountID:   jsii.String("444455556666"),
		ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:444455556666:event-bus/wharf"),
		ObserverExternalID:      jsii.String("0f8e9d7c6b5a"),
	}
	// The platform app validates the whole config before creating stacks.
	if err := props.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	acc := account.NewAccount(stack, "Account", props)

	// A build role (the App construct's CodeBuild project) may read the
	// Docker Hub credentials, and nothing else in Parameter Store.
	build := awsiam.NewRole(stack, jsii.String("Build"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	acc.GrantDockerHubRead(build)

	fmt.Println(acc.DockerHubParameterName)
	fmt.Println(*acc.AdministratorsParameter.Node().Id())
	// Output:
	// /wharf/account/dockerhub
	// AdministratorsParameter
}

// A config mistake is reported with the field and the rule.
func ExampleAccountProps_Validate() {
	err := (&account.AccountProps{
		OIDCIssuerURL:           jsii.String("https://login.example.com"),
		OIDCClientIDs:           []string{"wharf-cli"},
		Administrators:          []string{"alice"},
		ControlPlaneAccountID:   jsii.String("444455556666"),
		ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:444455556666:event-bus/wharf"),
		ObserverExternalID:      jsii.String("0f8e9d7c6b5a"),
	}).Validate()
	fmt.Println(err)
	// Output:
	// administrators: "alice" is not an email address (name@domain.tld, no spaces or commas)
}
