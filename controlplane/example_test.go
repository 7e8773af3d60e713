package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/controlplane"
)

// noClients stands in for the AWS client provider; rejected events never
// reach it.
type noClients struct{}

func (noClients) ForApp(context.Context, contract.AppRegistration) (*controlplane.AppClients, error) {
	return nil, errors.New("no AWS in this example")
}

func (noClients) ForObserver(context.Context, contract.AccountRegistration) (*controlplane.ObserverClients, error) {
	return nil, errors.New("no AWS in this example")
}

// A control plane built from a registry; an event from an account that is
// not registered is rejected without any AWS call, and Handle returns nil
// so EventBridge does not retry it.
func Example() {
	reg, err := contract.ParseRegistry([]byte(`{
	  "prefix": "wharf",
	  "accounts": [{"accountId": "111122223333", "externalId": "e1",
	    "observerRoleArn": "arn:aws:iam::111122223333:role/wharf-account-observer"}],
	  "apps": [{"name": "api", "accountId": "111122223333", "region": "eu-west-1", "externalId": "e2",
	    "managementRoleArn": "arn:aws:iam::111122223333:role/wharf-app-api-management"}]
	}`))
	if err != nil {
		panic(err)
	}
	cp, err := controlplane.New(controlplane.Options{
		Registry: reg,
		Store:    controlplane.NewMemoryStore(),
		Clients:  noClients{},
	})
	if err != nil {
		panic(err)
	}
	detail, _ := json.Marshal(map[string]any{
		"build-status": "SUCCEEDED", "project-name": "wharf-api",
		"build-id": "arn:aws:codebuild:eu-west-1:444455556666:build/wharf-api:1",
	})
	err = cp.Handle(context.Background(), events.CloudWatchEvent{
		ID: "e-1", Source: "aws.codebuild", DetailType: "CodeBuild Build State Change",
		AccountID: "444455556666", Region: "eu-west-1", Detail: detail,
	})
	fmt.Println(err, cp.Stats())
	// Output: <nil> map[rejected:unregistered_account:1]
}
