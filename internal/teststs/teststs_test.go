package teststs_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/wharf-paas/wharf/internal/testoidc"
	"github.com/wharf-paas/wharf/internal/teststs"
)

const roleArn = "arn:aws:iam::111122223333:role/wharf-app-api-user"

// setup: a provider, an STS trusting it, one role whose trust admits
// email alice@example.com only.
func setup(t *testing.T) (*testoidc.Provider, *teststs.Server, *sts.Client) {
	p := testoidc.New(t, testoidc.Options{
		Users:   []testoidc.User{{ID: "alice", Email: "alice@example.com"}, {ID: "bob", Email: "bob@example.com"}},
		Clients: []testoidc.Client{{ID: "wharf-cli"}, {ID: "other-app"}},
	})
	s := teststs.New()
	t.Cleanup(s.Close)
	s.AddProvider(teststs.Provider{ARN: "arn:aws:iam::111122223333:oidc-provider/" + strings.TrimPrefix(p.Issuer, "http://"),
		IssuerURL: p.Issuer, ClientIDs: []string{"wharf-cli"}, HTTPClient: p.HTTPClient()})
	s.AddRole(teststs.Role{ARN: roleArn, Trust: teststs.TrustFunc(func(prov string, c map[string][]string) (bool, string, error) {
		return len(c["email"]) == 1 && c["email"][0] == "alice@example.com", "email not allowed", nil
	})})
	client := sts.New(sts.Options{Region: "eu-west-1", BaseEndpoint: aws.String(s.URL), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	return p, s, client
}

func idToken(t *testing.T, p *testoidc.Provider, client, user string) string {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), p.HTTPClient())
	prov, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: client, Endpoint: prov.Endpoint(), Scopes: []string{"openid", "email"}}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Approve(da.UserCode, user); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Extra("id_token").(string)
}

func assume(c *sts.Client, token, session string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return c.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleArn), RoleSessionName: aws.String(session), WebIdentityToken: aws.String(token), DurationSeconds: aws.Int32(900)})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAssumeAndRecognize(t *testing.T) {
	p, s, c := setup(t)
	out, err := assume(c, idToken(t, p, "wharf-cli", "alice"), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sess, ok := s.Session(aws.ToString(out.Credentials.AccessKeyId))
	if !ok || sess.RoleARN != roleArn || sess.Email != "alice@example.com" || sess.AssumedRoleARN != "arn:aws:sts::111122223333:assumed-role/wharf-app-api-user/alice@example.com" {
		t.Errorf("session = %+v %v", sess, ok)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expiration in %s, want 15m", d)
	}
	s.Expire()
	if _, ok := s.Session(aws.ToString(out.Credentials.AccessKeyId)); ok {
		t.Error("expired session still recognized")
	}
}

// TestRefusals attacks the STS: another user, another client's token, a
// forged signature, a bad session name, too long a session.
func TestRefusals(t *testing.T) {
	p, _, c := setup(t)
	if _, err := assume(c, idToken(t, p, "wharf-cli", "bob"), "bob"); code(err) != "AccessDenied" {
		t.Errorf("bob: %v", err)
	}
	if _, err := assume(c, idToken(t, p, "other-app", "alice"), "alice"); code(err) != "InvalidIdentityToken" {
		t.Errorf("token of another client: %v", err)
	}
	// A token with alice's claims signed by a key the issuer never had.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "forged"))
	forged, _ := jwt.Signed(signer).Claims(map[string]any{"iss": p.Issuer, "aud": "wharf-cli", "sub": "alice", "email": "alice@example.com",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}).Serialize()
	if _, err := assume(c, forged, "alice"); code(err) != "InvalidIdentityToken" {
		t.Errorf("forged token: %v", err)
	}
	tok := idToken(t, p, "wharf-cli", "alice")
	if _, err := assume(c, tok, "alice smith"); code(err) != "ValidationError" {
		t.Errorf("session name with a space: %v", err)
	}
	_, err := c.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(roleArn), RoleSessionName: aws.String("alice"), WebIdentityToken: aws.String(tok), DurationSeconds: aws.Int32(7200)})
	if code(err) != "ValidationError" || !strings.Contains(err.Error(), "MaxSessionDuration") {
		t.Errorf("2h session on a 1h role: %v", err)
	}
}

// TestCORS: a browser's preflight and the response headers.
func TestCORS(t *testing.T) {
	_, s, _ := setup(t)
	req, _ := http.NewRequest(http.MethodOptions, s.URL, nil)
	req.Header.Set("Origin", "http://127.0.0.1:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,amz-sdk-invocation-id")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "amz-sdk-invocation-id") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}
