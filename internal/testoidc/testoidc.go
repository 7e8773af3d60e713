// Package testoidc runs an OpenID Connect provider inside a test process:
// github.com/zitadel/oidc/v3's op package with its in-memory example
// storage, serving discovery, JWKS, the device authorization grant
// (RFC 8628), authorization code with PKCE (S256), refresh tokens and
// revocation. Clients are public (no secret), like Wharf's login clients.
//
// Tests approve a device code with Approve (what a user does on the
// issuer's page) and log a browser in without a form through AutoLogin
// (the login page completes the request for that user and redirects).
//
// With an https issuer (the App construct accepts only https issuers
// without a port, as IAM does) the provider serves TLS with a certificate
// for the issuer's host, signed by a throwaway CA written to CAFile, and
// Proxy is an HTTP CONNECT proxy that routes the issuer's host to it. A
// subprocess reaches it with HTTPS_PROXY=<Proxy> and SSL_CERT_FILE=<CAFile>,
// and needs no test hook.
package testoidc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a user of the provider. An empty Email means the ID token has
// no email claim even with the email scope (an issuer not configured to
// emit it).
type User struct {
	// ID is the subject (sub).
	ID       string
	Email    string
	Password string
}

// Client is a public OIDC client with the device grant, authorization
// code + PKCE and refresh tokens.
type Client struct {
	ID string
	// RedirectURIs for the code flow (loopback URIs of any port are
	// accepted for native clients).
	RedirectURIs []string
	// IDTokenLifetime defaults to one hour.
	IDTokenLifetime time.Duration
}

// Options configure a Provider.
type Options struct {
	// Issuer is the iss of the tokens: "" serves http://127.0.0.1:<port>;
	// "https://host[/path]" serves TLS for host (see package doc).
	Issuer  string
	Users   []User
	Clients []Client
	// AutoLogin is the ID of the user the login page logs in without a
	// form; empty shows a username/password form.
	AutoLogin string
	// DevicePollInterval is the interval in device authorization responses
	// (default 1s; RFC 8628 default is 5s).
	DevicePollInterval time.Duration
	// DeviceLifetime is how long a device code is valid (default 5m).
	DeviceLifetime time.Duration
}

// Provider is a running OIDC provider.
type Provider struct {
	// Issuer is the iss claim and the discovery base.
	Issuer string
	// Addr is the host:port it listens on.
	Addr string
	// CAFile is the PEM file of the CA of an https issuer ("" for http).
	CAFile string
	// Proxy is the URL of a CONNECT proxy routing the issuer's host to
	// Addr ("" for http issuers).
	Proxy string

	storage *wrapped
	server  *httptest.Server
	proxy   *RoutingProxy
	ca      *CA
}

// New starts a provider and stops it when the test ends.
func New(t testing.TB, opts Options) *Provider {
	t.Helper()
	p, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// Start starts a provider; Close stops it.
func Start(opts Options) (*Provider, error) {
	if opts.DevicePollInterval == 0 {
		opts.DevicePollInterval = time.Second
	}
	if opts.DeviceLifetime == 0 {
		opts.DeviceLifetime = 5 * time.Minute
	}
	users := userStore{byID: map[string]*storage.User{}}
	for _, u := range opts.Users {
		users.byID[u.ID] = &storage.User{ID: u.ID, Username: u.ID, Password: u.Password, Email: u.Email, EmailVerified: u.Email != "",
			FirstName: u.ID, PreferredLanguage: language.English}
	}
	base := map[string]*storage.Client{}
	clients := map[string]*client{}
	for _, c := range opts.Clients {
		sc := storage.NativeClient(c.ID, c.RedirectURIs...)
		base[c.ID] = sc
		lifetime := c.IDTokenLifetime
		if lifetime == 0 {
			lifetime = time.Hour
		}
		clients[c.ID] = &client{Client: sc, idTokenLifetime: lifetime}
	}
	st := &wrapped{Storage: storage.NewStorageWithClients(users, base), clients: clients, users: users}

	p := &Provider{storage: st}
	srv := httptest.NewUnstartedServer(nil)
	p.server = srv
	p.Addr = srv.Listener.Addr().String()
	issuer := opts.Issuer
	var host string
	if issuer == "" {
		issuer = "http://" + p.Addr
	} else {
		u, err := url.Parse(issuer)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("testoidc: issuer %q must be empty or an https URL", issuer)
		}
		host = u.Hostname()
	}
	p.Issuer = strings.TrimSuffix(issuer, "/")

	config := &op.Config{
		CryptoKey:             [32]byte{1, 2, 3},
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     opts.DeviceLifetime,
			PollInterval: opts.DevicePollInterval,
			UserFormPath: "/device",
			UserCode:     op.UserCodeBase20,
		},
	}
	provider, err := op.NewProvider(config, st, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("testoidc: %w", err)
	}
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	callback := op.AuthCallbackURL(provider)
	mux := http.NewServeMux()
	mux.Handle("/login/username", interceptor.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.login(w, r, opts.AutoLogin, callback)
	}))
	mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) { p.devicePage(w, r, opts.AutoLogin) })
	mux.Handle("/", provider)
	srv.Config.Handler = mux

	if host != "" {
		ca, err := NewCA()
		if err != nil {
			return nil, err
		}
		cert, err := ca.Issue(host)
		if err != nil {
			return nil, err
		}
		p.ca = ca
		if p.CAFile, err = ca.WriteFile(); err != nil {
			return nil, err
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		p.proxy = NewRoutingProxy()
		p.proxy.Route(host+":443", p.Addr)
		p.Proxy = p.proxy.URL
	} else {
		srv.Start()
	}
	return p, nil
}

// Close stops the provider (and its proxy).
func (p *Provider) Close() {
	p.server.Close()
	if p.proxy != nil {
		p.proxy.Close()
	}
	if p.ca != nil {
		p.ca.Remove()
	}
}

// RoutingProxy returns the provider's CONNECT proxy (nil for http
// issuers), so a test can route more hosts through it.
func (p *Provider) RoutingProxy() *RoutingProxy { return p.proxy }

// CA returns the CA of an https issuer (nil for http), to issue
// certificates for further test servers behind the same proxy.
func (p *Provider) CA() *CA { return p.ca }

// HTTPClient reaches the provider by its issuer URL from inside the test
// process (dials Addr, trusts the CA).
func (p *Provider) HTTPClient() *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, p.Addr)
	}}
	if p.ca != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: p.ca.Pool()}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// Approve completes the device authorization with this user code for the
// user, as the user would on the issuer's device page.
func (p *Provider) Approve(userCode, userID string) error {
	if p.storage.users.GetUserByID(userID) == nil {
		return fmt.Errorf("testoidc: no user %q", userID)
	}
	return p.storage.CompleteDeviceAuthorization(context.Background(), userCode, userID)
}

// Deny refuses the device authorization (the token endpoint then answers
// access_denied).
func (p *Provider) Deny(userCode string) error {
	if _, err := p.storage.GetDeviceAuthorizationByUserCode(context.Background(), userCode); err != nil {
		return err
	}
	return p.storage.DenyDeviceAuthorization(context.Background(), userCode)
}

// SlowDown makes the next n device token polls answer slow_down.
func (p *Provider) SlowDown(n int) {
	p.storage.mu.Lock()
	p.storage.slowDown = n
	p.storage.mu.Unlock()
}

// Revocations returns the tokens revoked so far.
func (p *Provider) Revocations() []string {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	return append([]string(nil), p.storage.revoked...)
}

// Polls counts the device token requests answered so far.
func (p *Provider) Polls() int {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	return p.storage.polls
}

// SetEmail changes a user's email (or removes it with ""), for tests of
// renamed or unverified accounts.
func (p *Provider) SetEmail(userID, email string) {
	if u := p.storage.users.GetUserByID(userID); u != nil {
		u.Email = email
		u.EmailVerified = email != ""
	}
}

// login is the login page of the code flow: it completes the auth request
// for AutoLogin (or ?user=, or the posted username and password) and
// redirects to the OP's callback.
func (p *Provider) login(w http.ResponseWriter, r *http.Request, auto string, callback func(context.Context, string) string) {
	_ = r.ParseForm()
	id := r.Form.Get("authRequestID")
	user := auto
	if u := r.Form.Get("user"); u != "" {
		user = u
	}
	password := ""
	if u := p.storage.users.GetUserByID(user); u != nil {
		password = u.Password
	}
	if r.Method == http.MethodPost {
		user, password = r.Form.Get("username"), r.Form.Get("password")
	}
	if user == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Log in</title><form method="post"><input type="hidden" name="authRequestID" value="%s">`+
			`<label>Username <input name="username"></label><label>Password <input type="password" name="password"></label><button>Log in</button></form>`,
			html.EscapeString(id))
		return
	}
	if err := p.storage.CheckUsernamePassword(user, password, id); err != nil {
		http.Error(w, "login failed: "+err.Error(), http.StatusForbidden)
		return
	}
	http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
}

// devicePage approves ?user_code= for AutoLogin (a browser opened by
// `wharf login` without --no-browser lands here).
func (p *Provider) devicePage(w http.ResponseWriter, r *http.Request, auto string) {
	code := r.URL.Query().Get("user_code")
	if code == "" || auto == "" {
		http.Error(w, "enter the code shown on your device (testoidc: no auto-login user)", http.StatusBadRequest)
		return
	}
	if err := p.Approve(code, auto); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "Device approved. You can close this window.")
}

type userStore struct{ byID map[string]*storage.User }

func (u userStore) GetUserByID(id string) *storage.User { return u.byID[id] }
func (u userStore) GetUserByUsername(name string) *storage.User {
	return u.byID[name]
}
func (u userStore) ExampleClientID() string { return "service" }

// client is the example's native client (public, PKCE, refresh) with the
// device grant added and a configurable ID token lifetime.
type client struct {
	*storage.Client
	idTokenLifetime time.Duration
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode}
}
func (c *client) IDTokenLifetime() time.Duration { return c.idTokenLifetime }

// The ID token carries the userinfo claims (email) itself, as issuers do
// for the email scope in an ID token meant for AWS.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

// DevMode lets a dashboard test use an http://127.0.0.1:<port> redirect.
func (c *client) DevMode() bool { return true }

type wrapped struct {
	*storage.Storage
	clients  map[string]*client
	users    userStore
	mu       sync.Mutex
	slowDown int
	polls    int
	revoked  []string
}

func (s *wrapped) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return nil, errors.New("client not found")
}

func (s *wrapped) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	s.mu.Lock()
	s.polls++
	slow := s.slowDown > 0
	if slow {
		s.slowDown--
	}
	s.mu.Unlock()
	if slow {
		// The op package answers slow_down when the storage times out.
		return nil, context.DeadlineExceeded
	}
	return s.Storage.GetDeviceAuthorizatonState(ctx, clientID, deviceCode)
}

func (s *wrapped) RevokeToken(ctx context.Context, token, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	s.revoked = append(s.revoked, token)
	s.mu.Unlock()
	return s.Storage.RevokeToken(ctx, token, userID, clientID)
}

// CreateAccessAndRefreshTokens records the client of a device grant's
// refresh token: the example storage only knows code-flow and refresh
// requests and would store the device grant's token without its client,
// so that the token could never be refreshed.
func (s *wrapped) CreateAccessAndRefreshTokens(ctx context.Context, request op.TokenRequest, current string) (string, string, time.Time, error) {
	if d, ok := request.(*op.DeviceAuthorizationState); ok && current == "" {
		request = &storage.AuthRequest{ApplicationID: d.ClientID, UserID: d.Subject, Scopes: d.Scopes}
	}
	return s.Storage.CreateAccessAndRefreshTokens(ctx, request, current)
}
