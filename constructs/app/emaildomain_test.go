package app_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/iampolicy"
	"github.com/wharf-paas/wharf/internal/testoidc"
	"github.com/wharf-paas/wharf/internal/teststs"
)

// AllowedEmailDomains (acme.com on the api app): every user the issuer
// signs in with an address at acme.com gets the user role; a user of
// another domain, a look-alike domain, a subdomain, or a claim with two @
// does not. Real ID tokens from the test issuer go through the test STS,
// which evaluates the synthesized trust policy.
func TestAllowedEmailDomainsThroughSTS(t *testing.T) {
	role := managementRole(t, getFixture(t).apiJSON, "wharf-app-api-user")
	users := map[string]string{ // user ID -> email claim
		"dana": "dana@acme.com",           // by domain
		"bob":  "bob@example.com",         // by allowedUsers
		"eve":  "eve@evil.com",            // another domain
		"look": "x@acme.com.evil.com",     // ends in acme.com.evil.com
		"sub":  "carol@sub.acme.com",      // a subdomain is another domain
		"two":  "x@evil.com@acme.com",     // ends in @acme.com, two @
		"bare": "@acme.com",               // no local part
		"case": "Dana@ACME.COM",           // StringLike is case-sensitive
		"none": "",                        // no email claim at all
		"near": "dana@acme.community.com", // prefix of the domain
	}
	want := map[string]bool{"dana": true, "bob": true}
	var tu []testoidc.User
	for id, email := range users {
		tu = append(tu, testoidc.User{ID: id, Email: email, Password: "pw"})
	}
	idp := testoidc.New(t, testoidc.Options{Issuer: issuer, Users: tu, Clients: []testoidc.Client{{ID: "wharf-cli"}},
		DevicePollInterval: 10 * time.Millisecond})
	const providerArn = "arn:aws:iam::111122223333:oidc-provider/login.example.com"
	sts := teststs.New()
	t.Cleanup(sts.Close)
	sts.AddProvider(teststs.Provider{ARN: providerArn, IssuerURL: issuer, ClientIDs: []string{"wharf-cli"}, HTTPClient: idp.HTTPClient()})
	roleArn := "arn:aws:iam::111122223333:role/" + contract.Names{Prefix: "wharf"}.UserRole("api")
	sts.AddRole(teststs.Role{ARN: roleArn, Trust: teststs.TrustFunc(func(prov string, claims map[string][]string) (bool, string, error) {
		req, err := iampolicy.WebIdentityRequest(prov, claims)
		if err != nil {
			return false, "", err
		}
		d, err := iampolicy.EvaluateTrust(role.Trust, req)
		if err != nil {
			return false, "", err
		}
		return d.Allowed(), d.String(), nil
	})})

	ctx, cancel := context.WithTimeout(oidc.ClientContext(context.Background(), idp.HTTPClient()), time.Minute)
	defer cancel()
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	conf := &oauth2.Config{ClientID: "wharf-cli", Endpoint: ep, Scopes: []string{oidc.ScopeOpenID, "email"}}
	for id, email := range users {
		da, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := idp.Approve(da.UserCode, id); err != nil {
			t.Fatal(err)
		}
		tok, err := conf.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		resp, err := http.PostForm(sts.URL, url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"},
			"RoleArn": {roleArn}, "RoleSessionName": {"s-" + id}, "WebIdentityToken": {raw}, "DurationSeconds": {"900"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.StatusCode == http.StatusOK
		if got != want[id] {
			t.Errorf("email %q: assumed the user role = %v, want %v (STS status %d)", email, got, want[id], resp.StatusCode)
		}
		if !got && resp.StatusCode != http.StatusForbidden {
			t.Errorf("email %q: refused with status %d, want 403 AccessDenied (the token itself is valid)", email, resp.StatusCode)
		}
	}
}
