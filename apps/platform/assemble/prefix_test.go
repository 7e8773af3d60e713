package assemble_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/constructs/account"
	cps "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

// TestPrefixRuleIsTheSameEverywhere builds an account and a control plane
// (and validates a platform config) with each prefix and checks that each
// one accepts exactly what contract.ValidatePrefix accepts. Before the
// contract package, NewControlPlane accepted "acme-co" while NewAccount
// panicked on it.
func TestPrefixRuleIsTheSameEverywhere(t *testing.T) {
	code := t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	app := cdktest.NewApp(t)
	env := &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")}
	for i, prefix := range []string{"acme-co", "acme", "Acme", "acme-", strings.Repeat("a", 17), strings.Repeat("a", 16), "a1b2"} {
		want := contract.ValidatePrefix(prefix) == nil
		names := contract.Names{Prefix: prefix}
		newAccount := func() {
			stack := awscdk.NewStack(app, jsii.String(fmt.Sprintf("Account%d", i)), &awscdk.StackProps{Env: env})
			account.NewAccount(stack, "Account", &account.AccountProps{
				Prefix:                  jsii.String(prefix),
				OIDCIssuerURL:           jsii.String("https://login.example.com"),
				OIDCClientIDs:           []string{"wharf-cli"},
				Administrators:          []string{"alice@example.com"},
				ControlPlaneAccountID:   jsii.String("444455556666"),
				ControlPlaneEventBusArn: jsii.String("arn:aws:events:eu-west-1:444455556666:event-bus/" + names.EventBus()),
				ObserverExternalID:      jsii.String("0f8e9d7c6b5a"),
			})
		}
		newControlPlane := func() {
			stack := awscdk.NewStack(app, jsii.String(fmt.Sprintf("ControlPlane%d", i)), &awscdk.StackProps{Env: env})
			cps.NewControlPlane(stack, "ControlPlane", &cps.ControlPlaneProps{
				Prefix: jsii.String(prefix),
				Code:   awslambda.Code_FromAsset(jsii.String(code), nil),
				Registry: &cps.Registry{Accounts: []cps.AccountRegistration{{AccountID: "111122223333",
					ObserverRoleARN: names.ObserverRoleARN("aws", "111122223333"), ExternalID: "ext-1"}}},
			})
		}
		for _, c := range []struct {
			name string
			fn   func()
		}{{"NewAccount", newAccount}, {"NewControlPlane", newControlPlane}} {
			if got := accepts(c.fn); got != want {
				t.Errorf("%s accepts prefix %q: %v; contract.ValidatePrefix: %v", c.name, prefix, got, want)
			}
		}
		cfg := &config.Platform{Prefix: prefix}
		cfg.ApplyDefaults()
		gotCfg := true
		if errs, ok := cfg.Validate().(config.Errors); ok {
			for _, e := range errs {
				gotCfg = gotCfg && e.Path != "prefix"
			}
		}
		if gotCfg != want {
			t.Errorf("platform config accepts prefix %q: %v; contract.ValidatePrefix: %v", prefix, gotCfg, want)
		}
	}
}

// accepts reports whether fn returns without panicking.
func accepts(fn func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
		}
	}()
	fn()
	return true
}
