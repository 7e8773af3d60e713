package dashfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// OIDC is an OpenID Connect provider for tests: discovery, JWKS, and the
// authorization code flow for public clients with PKCE (S256 only, and
// required). Its login page asks for an email and signs that user in if it
// is one of Users; tests drive the page like a person would. ID tokens are
// RS256 JWTs with iss, aud, sub, email, iat, exp and nonce.
//
// It is deliberately strict: unknown client, unregistered redirect URI,
// missing PKCE, plain PKCE, a reused or expired code, or a code_verifier
// that does not match all fail as RFC 6749/7636 say.
type OIDC struct {
	URL string

	srv          *httptest.Server
	key          *rsa.PrivateKey
	kid          string
	clients      map[string][]string // client ID -> redirect URIs
	users        map[string]string   // email -> sub
	tokenTTL     time.Duration
	mu           sync.Mutex
	codes        map[string]authCode
	TokensIssued int
}

type authCode struct {
	client, redirect, challenge, nonce, email string
	expires                                   time.Time
}

// NewOIDC starts a provider. clients maps client IDs to their redirect
// URIs; users are the emails that may sign in.
func NewOIDC(clients map[string][]string, users []string) (*OIDC, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	o := &OIDC{key: key, kid: "test-key-1", clients: clients, users: map[string]string{}, codes: map[string]authCode{}, tokenTTL: time.Hour}
	for i, u := range users {
		o.users[strings.ToLower(u)] = fmt.Sprintf("user-%04d", i+1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", o.discovery)
	mux.HandleFunc("GET /jwks", o.jwks)
	mux.HandleFunc("GET /authorize", o.authorize)
	mux.HandleFunc("POST /authorize", o.login)
	mux.HandleFunc("POST /token", o.token)
	mux.HandleFunc("OPTIONS /", o.preflight)
	o.srv = httptest.NewServer(cors(mux))
	o.URL = o.srv.URL
	return o, nil
}

// AddRedirect registers another redirect URI for a client (the site's
// address is known only after it starts).
func (o *OIDC) AddRedirect(client, uri string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clients[client] = append(o.clients[client], uri)
}

// Close stops the provider.
func (o *OIDC) Close() { o.srv.Close() }

// PublicKey is the key ID tokens are signed with.
func (o *OIDC) PublicKey() *rsa.PublicKey { return &o.key.PublicKey }

// cors lets browsers read discovery, JWKS and token responses from another
// origin, as issuers that support single-page apps do.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Vary", "Origin")
		}
		h.ServeHTTP(w, r)
	})
}

func (o *OIDC) preflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
	w.Header().Set("Access-Control-Allow-Headers", r.Header.Get("Access-Control-Request-Headers"))
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (o *OIDC) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                o.URL,
		"authorization_endpoint":                o.URL + "/authorize",
		"token_endpoint":                        o.URL + "/token",
		"jwks_uri":                              o.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (o *OIDC) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := o.key.PublicKey
	writeJSON(w, 200, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": o.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// checkAuthorize validates an authorization request (RFC 6749 4.1.1, RFC
// 7636 4.3). Errors before the redirect URI is known are shown, not
// redirected (RFC 6749 4.1.2.1).
func (o *OIDC) checkAuthorize(q url.Values) (string, error) {
	o.mu.Lock()
	uris, ok := o.clients[q.Get("client_id")]
	o.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("unknown client_id %q", q.Get("client_id"))
	}
	registered := false
	for _, u := range uris {
		if u == q.Get("redirect_uri") {
			registered = true
		}
	}
	if !registered {
		return "", fmt.Errorf("redirect_uri %q is not registered for %s", q.Get("redirect_uri"), q.Get("client_id"))
	}
	switch {
	case q.Get("response_type") != "code":
		return "unsupported_response_type", nil
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		return "invalid_scope", nil
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		// PKCE is required for public clients; plain is refused.
		return "invalid_request", nil
	}
	return "", nil
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test issuer: sign in</title></head>
<body><main><h1>Test issuer</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label for="email">Email</label> <input id="email" name="email" type="email" autocomplete="username">
<button type="submit">Sign in</button>
</form></main></body></html>`))

func (o *OIDC) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	oauthErr, err := o.checkAuthorize(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if oauthErr != "" {
		redirectError(w, r, q, oauthErr)
		return
	}
	params := map[string]string{}
	for k := range q {
		params[k] = q.Get(k)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, map[string]any{"Params": params})
}

func redirectError(w http.ResponseWriter, r *http.Request, q url.Values, code string) {
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("error", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (o *OIDC) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.PostForm
	oauthErr, err := o.checkAuthorize(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if oauthErr != "" {
		redirectError(w, r, q, oauthErr)
		return
	}
	email := strings.ToLower(strings.TrimSpace(q.Get("email")))
	if _, ok := o.users[email]; !ok {
		params := map[string]string{}
		for k := range q {
			if k != "email" {
				params[k] = q.Get(k)
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, map[string]any{"Params": params, "Error": "No such user."})
		return
	}
	code := randomString(24)
	o.mu.Lock()
	o.codes[code] = authCode{client: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		nonce: q.Get("nonce"), email: email, expires: time.Now().Add(time.Minute)}
	o.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64(b)
}

func (o *OIDC) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	o.mu.Lock()
	c, ok := o.codes[f.Get("code")]
	delete(o.codes, f.Get("code")) // single use (RFC 6749 4.1.2)
	o.mu.Unlock()
	if !ok || time.Now().After(c.expires) || c.client != f.Get("client_id") || c.redirect != f.Get("redirect_uri") {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if f.Get("code_verifier") == "" || b64(sum[:]) != c.challenge { // RFC 7636 4.6
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": o.URL, "aud": c.client, "sub": o.users[c.email], "email": c.email, "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(o.tokenTTL).Unix()}
	if c.nonce != "" {
		claims["nonce"] = c.nonce
	}
	idToken, err := o.Sign(claims)
	if err != nil {
		writeJSON(w, 500, map[string]string{"error": "server_error"})
		return
	}
	o.mu.Lock()
	o.TokensIssued++
	o.mu.Unlock()
	writeJSON(w, 200, map[string]any{"access_token": randomString(24), "token_type": "Bearer", "expires_in": int(o.tokenTTL.Seconds()),
		"id_token": idToken, "scope": "openid email profile"})
}

// Sign makes an RS256 JWT with the provider's key.
func (o *OIDC) Sign(claims map[string]any) (string, error) {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": o.kid})
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, o.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}
