package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/pkg/browser"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/wharf-paas/wharf/contract"
)

// Scopes asked of the issuer: openid for the ID token, email for the claim
// the user roles' trust policies match, offline_access for a refresh token.
var loginScopes = []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}

// refreshBefore is how long before the ID token's expiry it is refreshed.
const refreshBefore = 2 * time.Minute

func httpClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport}
}

// isNetworkError reports whether err means a server could not be reached.
func isNetworkError(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	if errors.As(err, &op) || errors.As(err, &dns) {
		return true
	}
	if errors.As(err, &ue) && (ue.Timeout() || strings.Contains(ue.Error(), "connection refused")) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func networkOr(code int, err error) error {
	if isNetworkError(err) {
		return withCode(ExitNetwork, err)
	}
	return withCode(code, err)
}

func discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, httpClient()), issuer)
	if err != nil {
		return nil, networkOr(ExitError, fmt.Errorf("OIDC discovery at %s: %w", issuer, err))
	}
	return p, nil
}

// idClaims are the claims wharf reads from the ID token.
type idClaims struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
}

// verifyIDToken checks signature (the issuer's JWKS), issuer, audience and
// expiry, and requires an email claim.
func verifyIDToken(ctx context.Context, p *oidc.Provider, clientID, raw string) (*oidc.IDToken, idClaims, error) {
	var c idClaims
	if raw == "" {
		return nil, c, errors.New("the issuer returned no ID token: is the openid scope allowed for the client?")
	}
	tok, err := p.Verifier(&oidc.Config{ClientID: clientID}).Verify(oidc.ClientContext(ctx, httpClient()), raw)
	if err != nil {
		return nil, c, networkOr(ExitLogin, fmt.Errorf("the ID token does not verify: %w", err))
	}
	if err := tok.Claims(&c); err != nil {
		return nil, c, err
	}
	if c.Email == "" {
		return nil, c, codef(ExitLogin, "the ID token has no email claim: the login client %q must be allowed the 'email' scope, and the issuer must put the email in ID tokens (docs/cli.md, 'Registering the login client')", clientID)
	}
	return tok, c, nil
}

func oauthConfig(p *oidc.Provider, pl *contract.Platform) *oauth2.Config {
	ep := p.Endpoint()
	// A public client has no secret: it sends client_id in the form body
	// (RFC 8628 section 3.4, RFC 6749 section 2.3.1). Auto-detection would
	// first try HTTP Basic with an empty secret, which issuers refuse, and
	// cost a round trip on every token request.
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: pl.ClientID, Endpoint: ep, Scopes: loginScopes}
}

func (c *cli) loginCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in at your team's issuer with a device code",
		Long: "Log in with the OAuth 2.0 device authorization grant: wharf shows a code and a URL,\n" +
			"opens the URL in your browser (unless --no-browser), and waits until you approve.\n" +
			"The platform descriptor (--platform) is remembered for later logins.",
		Example: "  wharf login --platform https://wharf.example.com/platform.json\n  wharf login --no-browser",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.login(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&c.platformFlag, "platform", "", "URL or file of the platform descriptor (remembered)")
	cmd.Flags().BoolVar(&c.noBrowser, "no-browser", false, "do not open a browser; print the URL only")
	return cmd
}

func (c *cli) login(ctx context.Context) error {
	src := c.platformFlag
	if src == "" {
		src = rememberedPlatformSource()
	}
	if src == "" {
		return usagef("no platform: pass --platform <url or file> (ask your platform team for it)")
	}
	src = absIfFile(src)
	pl, data, err := loadPlatformFrom(src, httpClient())
	if err != nil {
		return err
	}
	prov, err := discover(ctx, pl.Issuer)
	if err != nil {
		return err
	}
	cfg := oauthConfig(prov, pl)
	if cfg.Endpoint.DeviceAuthURL == "" {
		return fmt.Errorf("the issuer %s does not offer the device authorization grant (no device_authorization_endpoint in its discovery document)", pl.Issuer)
	}
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		return networkOr(ExitError, fmt.Errorf("device authorization at %s: %w", pl.Issuer, err))
	}
	open := da.VerificationURIComplete
	if open == "" {
		open = da.VerificationURI
	}
	c.out.infof("To log in, open %s\nand enter the code: %s", da.VerificationURI, c.out.paint("1", da.UserCode))
	if !c.noBrowser {
		if err := browser.OpenURL(open); err != nil {
			c.out.infof("(could not open a browser: %v)", err)
		}
	}
	wait := c.out.progress("Waiting for you to approve the login")
	tok, err := cfg.DeviceAccessToken(ctx, da)
	wait.end()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			switch re.ErrorCode {
			case "access_denied":
				return codef(ExitLogin, "login refused at the issuer (access_denied)")
			case "expired_token":
				return codef(ExitLogin, "the code expired before it was approved: run 'wharf login' again")
			}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return codef(ExitLogin, "the code expired before it was approved: run 'wharf login' again")
		}
		return networkOr(ExitLogin, fmt.Errorf("login: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, claims, err := verifyIDToken(ctx, prov, pl.ClientID, raw)
	if err != nil {
		return err
	}
	if err := clearCache(); err != nil {
		return err
	}
	if err := saveSession(&session{Issuer: pl.Issuer, ClientID: pl.ClientID, IDToken: raw, RefreshToken: tok.RefreshToken,
		AccessToken: tok.AccessToken, Expiry: idt.Expiry, Email: claims.Email, Subject: idt.Subject}); err != nil {
		return err
	}
	if err := rememberPlatform(src, data); err != nil {
		return err
	}
	c.out.infof("Logged in as %s", claims.Email)
	return nil
}

// currentSession returns a session whose ID token is valid for at least
// refreshBefore, refreshing it with the refresh token if needed.
func (c *cli) currentSession(ctx context.Context, pl *contract.Platform, force bool) (*session, error) {
	s, err := loadSession()
	if err != nil {
		return nil, err
	}
	if s.Issuer != pl.Issuer || s.ClientID != pl.ClientID {
		return nil, codef(ExitLogin, "logged in at %s, but the platform uses %s: run 'wharf login'", s.Issuer, pl.Issuer)
	}
	if !force && time.Until(s.Expiry) > refreshBefore {
		return s, nil
	}
	if s.RefreshToken == "" {
		return nil, codef(ExitLogin, "login expired: run 'wharf login'")
	}
	prov, err := discover(ctx, pl.Issuer)
	if err != nil {
		return nil, err
	}
	cfg := oauthConfig(prov, pl)
	tok, err := cfg.TokenSource(oidc.ClientContext(ctx, httpClient()), &oauth2.Token{RefreshToken: s.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, codef(ExitLogin, "login expired (the issuer refused the refresh: %s): run 'wharf login'", re.ErrorCode)
		}
		return nil, networkOr(ExitLogin, fmt.Errorf("refresh login: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, claims, err := verifyIDToken(ctx, prov, pl.ClientID, raw)
	if err != nil {
		return nil, err
	}
	s.IDToken, s.AccessToken, s.Expiry, s.Email, s.Subject = raw, tok.AccessToken, idt.Expiry, claims.Email, idt.Subject
	if tok.RefreshToken != "" {
		s.RefreshToken = tok.RefreshToken
	}
	if err := saveSession(s); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *cli) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "Forget the login and every cached credential (and revoke the refresh token)",
		Example: "  wharf logout",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSession()
			if err == nil && s.RefreshToken != "" {
				if err := revoke(cmd.Context(), s); err != nil {
					c.out.infof("(the refresh token was not revoked: %v)", err)
				}
			}
			if err := clearCache(); err != nil {
				return err
			}
			c.out.infof("Logged out.")
			return nil
		},
	}
}

// revoke revokes the refresh token (RFC 7009) where the issuer publishes
// a revocation_endpoint.
func revoke(ctx context.Context, s *session) error {
	prov, err := discover(ctx, s.Issuer)
	if err != nil {
		return err
	}
	var meta struct {
		Revocation string `json:"revocation_endpoint"`
	}
	if err := prov.Claims(&meta); err != nil || meta.Revocation == "" {
		return errors.New("the issuer has no revocation endpoint")
	}
	form := url.Values{"token": {s.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {s.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, meta.Revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation endpoint answered HTTP %d", resp.StatusCode)
	}
	return nil
}

func (c *cli) whoamiCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "whoami",
		Short:   "Show who you are logged in as",
		Example: "  wharf whoami\n  wharf whoami --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pl, err := c.platform()
			if err != nil {
				return err
			}
			s, err := c.currentSession(cmd.Context(), pl, false)
			if err != nil {
				return err
			}
			out := map[string]any{"email": s.Email, "sub": s.Subject, "issuer": s.Issuer, "clientId": s.ClientID, "expiry": s.Expiry.UTC().Format(time.RFC3339)}
			if c.jsonOut {
				return c.out.json(out)
			}
			c.out.fields([][2]string{{"Email", s.Email}, {"Subject", s.Subject}, {"Issuer", s.Issuer}, {"Login valid until", s.Expiry.Local().Format(time.RFC1123)}})
			return nil
		},
	}
}
