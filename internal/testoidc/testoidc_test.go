package testoidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/wharf-paas/wharf/internal/testoidc"
)

func setup(t *testing.T, issuer string) (*testoidc.Provider, *oauth2.Config, context.Context, *oidc.Provider) {
	t.Helper()
	p := testoidc.New(t, testoidc.Options{
		Issuer:    issuer,
		Users:     []testoidc.User{{ID: "alice", Email: "alice@example.com", Password: "pw"}, {ID: "noemail", Password: "pw"}},
		Clients:   []testoidc.Client{{ID: "wharf-cli", RedirectURIs: []string{"http://127.0.0.1/callback"}}},
		AutoLogin: "alice",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	ctx = oidc.ClientContext(ctx, p.HTTPClient())
	prov, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "wharf-cli", Endpoint: prov.Endpoint(), Scopes: []string{"openid", "email", "offline_access"}}
	return p, cfg, ctx, prov
}

// TestDeviceGrant runs RFC 8628 with x/oauth2 against the provider, on an
// https issuer without a port (reached through the provider's CA), and
// verifies the ID token with go-oidc.
func TestDeviceGrant(t *testing.T) {
	p, cfg, ctx, prov := setup(t, "https://login.wharf.test")
	if cfg.Endpoint.DeviceAuthURL == "" {
		t.Fatal("discovery has no device_authorization_endpoint")
	}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.SlowDown(1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		if err := p.Approve(da.UserCode, "alice"); err != nil {
			t.Error(err)
		}
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		t.Fatal(err)
	}
	if p.Polls() < 2 {
		t.Errorf("polls = %d; slow_down should have made the client poll again", p.Polls())
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := prov.Verifier(&oidc.Config{ClientID: "wharf-cli"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != "alice@example.com" || idt.Subject != "alice" || idt.Issuer != "https://login.wharf.test" {
		t.Errorf("claims = %+v sub %s iss %s err %v", claims, idt.Subject, idt.Issuer, err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token for offline_access")
	}
	// Refresh returns a new ID token.
	tok2, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := tok2.Extra("id_token").(string); s == "" {
		t.Error("refresh returned no id_token")
	}
}

func TestDeviceDenied(t *testing.T) {
	p, cfg, ctx, _ := setup(t, "")
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Deny(da.UserCode); err != nil {
		t.Fatal(err)
	}
	_, err = cfg.DeviceAccessToken(ctx, da)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "access_denied" {
		t.Fatalf("err = %v, want access_denied", err)
	}
}

// TestCodePKCEAutoLogin logs AutoLogin in through the authorization
// endpoint without a form, as a dashboard test's browser would.
func TestCodePKCEAutoLogin(t *testing.T) {
	p, cfg, ctx, prov := setup(t, "")
	cfg.RedirectURL = "http://127.0.0.1/callback"
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state1", oauth2.S256ChallengeOption(verifier))
	c := p.HTTPClient()
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), "http://127.0.0.1/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "state1" {
		t.Fatalf("redirect = %s (%d)", resp.Header.Get("Location"), resp.StatusCode)
	}
	// Without the verifier the code is refused (PKCE enforced).
	if _, err := cfg.Exchange(ctx, loc.Query().Get("code")); err == nil {
		t.Error("code exchanged without code_verifier")
	}
	// The code was consumed or is still valid; get a new one to exchange.
	resp, err = c.Get(cfg.AuthCodeURL("state2", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := prov.Verifier(&oidc.Config{ClientID: "wharf-cli"}).Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
}
