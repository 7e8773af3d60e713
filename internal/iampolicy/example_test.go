package iampolicy_test

import (
	"fmt"

	"github.com/wharf-paas/wharf/internal/iampolicy"
)

// A test STS checks a verified ID token's claims against a role's trust
// policy before it hands out credentials.
func ExampleEvaluateTrust() {
	trust, err := iampolicy.Parse("UserRole/trust", []byte(`{"Statement": [{
	  "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
	  "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/login.example.com"},
	  "Condition": {"StringEquals": {"login.example.com:aud": "wharf-cli"},
	                "StringEqualsIgnoreCase": {"login.example.com:email": ["ann@example.com"]}}}]}`))
	if err != nil {
		panic(err)
	}
	for _, email := range []string{"Ann@example.com", "eve@example.com"} {
		req, err := iampolicy.WebIdentityRequest("arn:aws:iam::111122223333:oidc-provider/login.example.com",
			map[string][]string{"aud": {"wharf-cli"}, "sub": {"user-1"}, "email": {email}})
		if err != nil {
			panic(err)
		}
		d, err := iampolicy.EvaluateTrust(trust, req)
		if err != nil {
			panic(err)
		}
		fmt.Println(email, d.Allowed())
	}
	// Output:
	// Ann@example.com true
	// eve@example.com false
}

// Evaluate names the statement that decided, or says why nothing allowed.
func ExampleEvaluate() {
	p, _ := iampolicy.Parse("wharf-management", []byte(`{"Statement": [
	  {"Sid": "RunOwnTasks", "Effect": "Allow", "Action": "ecs:RunTask",
	   "Resource": "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_*",
	   "Condition": {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"}}}]}`))
	run := iampolicy.Request{Action: "ecs:RunTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_release:4",
		Context: iampolicy.Context{"ecs:cluster": {"arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"}}}
	d, _ := iampolicy.Evaluate(run, p)
	fmt.Println(d)
	d, _ = iampolicy.Evaluate(iampolicy.Request{Action: "ecs:StopTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/0f1e"}, p)
	fmt.Println(d)
	// Output:
	// allowed: ecs:RunTask on arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_release:4 by wharf-management/RunOwnTasks
	// implicit deny: no statement allows ecs:StopTask on arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/0f1e
}
