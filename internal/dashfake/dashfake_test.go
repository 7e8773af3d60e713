package dashfake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func newWorld(t *testing.T) *World {
	t.Helper()
	w, err := New("", []App{{Name: "api", Users: []string{"alice@example.com"}}, {Name: "billing", Users: []string{"bob@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if err := w.SetConfig(context.Background(), "billing", "STRIPE_KEY", "sk_live_billing_secret"); err != nil {
		t.Fatal(err)
	}
	return w
}

// token signs email in at the world's provider with the device grant and
// returns the ID token.
func (w *World) token(t *testing.T, email string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, w.OIDC.HTTPClient())
	prov, err := oidc.NewProvider(ctx, w.OIDC.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: ClientID, Endpoint: prov.Endpoint(), Scopes: []string{"openid", "email"}}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.OIDC.Approve(da.UserCode, email); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	return raw
}

func (w *World) assume(ctx context.Context, app, token string) (aws.Credentials, error) {
	c := sts.New(sts.Options{Region: Region, BaseEndpoint: aws.String(w.STS.URL)})
	out, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(RoleARN(app)),
		RoleSessionName: aws.String("alice@example.com"), WebIdentityToken: aws.String(token), DurationSeconds: aws.Int32(900)})
	if err != nil {
		return aws.Credentials{}, err
	}
	return aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}, nil
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// A hostile tenant: alice holds api's credentials and tries to read
// billing's config through the same AWS endpoint the browser uses.
func TestGatewayConfinesCredentialsToTheirApp(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	creds, err := w.assume(ctx, "api", w.token(t, "alice@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	c := ssm.New(ssm.Options{Region: Region, BaseEndpoint: aws.String(w.AWS.URL),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)})
	out, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/wharf/apps/api/config/"), WithDecryption: aws.Bool(true)})
	if err != nil || len(out.Parameters) != 3 {
		t.Fatalf("own config: %v %v", out, err)
	}
	for _, attack := range []func() error{
		func() error {
			_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/wharf/apps/billing/config/"), WithDecryption: aws.Bool(true)})
			return err
		},
		func() error {
			_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/wharf/apps/billing/config/STRIPE_KEY"), WithDecryption: aws.Bool(true)})
			return err
		},
		func() error { // path traversal-looking names stay names
			_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/wharf/apps/api/config/../../billing/config/STRIPE_KEY")})
			return err
		},
		func() error { // a broader path than the app's config
			_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/wharf/apps/"), Recursive: aws.Bool(true)})
			return err
		},
		func() error {
			_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/wharf/apps/billing/config/X"), Value: aws.String("x"), Type: "SecureString"})
			return err
		},
	} {
		if err := attack(); code(err) != "AccessDeniedException" {
			t.Errorf("attack: got %v, want AccessDeniedException", err)
		}
	}
	if v, _ := w.Config(ctx, "billing", "X"); v != "" {
		t.Error("billing config was written")
	}
	// Unsigned or unknown credentials are refused.
	bad := ssm.New(ssm.Options{Region: Region, BaseEndpoint: aws.String(w.AWS.URL), Credentials: credentials.NewStaticCredentialsProvider("ASIAFORGED", "x", "y")})
	if _, err := bad.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/wharf/apps/api/status")}); code(err) != "UnrecognizedClientException" {
		t.Errorf("forged credentials: %v", err)
	}
}

// The world's roles trust only their allowed users (token verification
// itself is internal/teststs's and is tested there).
func TestRolesTrustOnlyTheirUsers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.assume(ctx, "billing", w.token(t, "alice@example.com")); code(err) != "AccessDenied" {
		t.Errorf("alice on billing: %v", err)
	}
	if _, err := w.assume(ctx, "billing", w.token(t, "bob@example.com")); err != nil {
		t.Errorf("bob on billing: %v", err)
	}
	if d := w.Denied()[RoleARN("billing")]; d != 1 {
		t.Errorf("denied counts: %v", w.Denied())
	}
}

func TestGatewayAnswersPreflightLikeAWS(t *testing.T) {
	w := newWorld(t)
	req, _ := http.NewRequest(http.MethodOptions, w.AWS.URL+"/", nil)
	req.Header.Set("Origin", "https://dashboard.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "x-amz-target") ||
		res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}
}
