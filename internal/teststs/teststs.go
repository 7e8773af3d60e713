// Package teststs is a test STS that serves AssumeRoleWithWebIdentity over
// the AWS query protocol, for the real SDK client (BaseEndpoint pointed at
// it). It does what STS documents for that action and nothing on trust
// of the caller:
//
//   - verifies the web identity token: a JWT signed by a key of the
//     issuer's JWKS (fetched over HTTP, as STS does from the provider's
//     discovery document), not expired, whose iss is a registered OIDC
//     provider and whose aud is one of that provider's client IDs;
//   - authorizes sts:AssumeRoleWithWebIdentity with the role's trust
//     policy, through a TrustPolicy (the synthesized policy evaluated by
//     internal/iampolicy in Wharf's tests), with the claims as the
//     "<provider>:<claim>" condition keys; a refusal is AccessDenied;
//   - validates the parameters' documented constraints;
//   - issues temporary credentials it can recognize later (Session), so
//     fakes behind it can tell which role and user made a call.
//
// It answers CORS preflights as AWS's endpoints do for browsers (the
// dashboard calls STS from a page).
package teststs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TrustPolicy decides whether a web identity may assume a role. claims
// are the token's claims by name (aud, sub, email, ...); the
// implementation turns them into "<provider>:<claim>" keys. It returns a
// reason when the request is refused.
type TrustPolicy interface {
	AllowWebIdentity(providerARN string, claims map[string][]string) (bool, string, error)
}

// TrustFunc adapts a function to TrustPolicy.
type TrustFunc func(providerARN string, claims map[string][]string) (bool, string, error)

// AllowWebIdentity calls f.
func (f TrustFunc) AllowWebIdentity(p string, c map[string][]string) (bool, string, error) {
	return f(p, c)
}

// Provider is an IAM OIDC identity provider.
type Provider struct {
	// ARN is arn:aws:iam::<account>:oidc-provider/<host/path>.
	ARN string
	// IssuerURL is the issuer (https://<host/path>, or the http issuer of
	// a test provider) whose discovery document names the JWKS.
	IssuerURL string
	// ClientIDs are the provider's audiences.
	ClientIDs []string
	// HTTPClient fetches the discovery document and keys.
	HTTPClient *http.Client
}

// Role is a role STS may issue credentials for.
type Role struct {
	ARN string
	// Trust is the role's trust policy.
	Trust TrustPolicy
	// MaxSessionDuration defaults to one hour.
	MaxSessionDuration time.Duration
}

// Session is a set of credentials the server issued.
type Session struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	RoleARN, SessionName                       string
	// AssumedRoleARN is arn:aws:sts::<account>:assumed-role/<role>/<session>.
	AssumedRoleARN string
	Subject, Email string
	Expiration     time.Time
}

// Call is one AssumeRoleWithWebIdentity request and its outcome.
type Call struct {
	RoleARN, SessionName string
	Duration             int
	ErrorCode            string
	Message              string
}

// Server is a running test STS.
type Server struct {
	URL string

	mu        sync.Mutex
	srv       *httptest.Server
	providers map[string]*Provider // by issuer URL
	verifiers map[string]*oidc.IDTokenVerifier
	roles     map[string]*Role
	sessions  map[string]*Session
	calls     []Call
	now       func() time.Time
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{providers: map[string]*Provider{}, verifiers: map[string]*oidc.IDTokenVerifier{}, roles: map[string]*Role{},
		sessions: map[string]*Session{}, now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddProvider registers an OIDC provider.
func (s *Server) AddProvider(p Provider) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := p
	s.providers[strings.TrimSuffix(p.IssuerURL, "/")] = &cp
}

// AddRole registers a role.
func (s *Server) AddRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := r
	if cp.MaxSessionDuration == 0 {
		cp.MaxSessionDuration = time.Hour
	}
	s.roles[r.ARN] = &cp
}

// SetClock replaces the clock (for expiry tests).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Session returns the session of an access key ID, if the server issued
// it and it has not expired.
func (s *Server) Session(accessKeyID string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[accessKeyID]
	if !ok || !s.now().Before(sess.Expiration) {
		return nil, false
	}
	return sess, true
}

// Calls returns the requests served so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Expire makes every issued session expired (as if their time ran out).
func (s *Server) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.sessions {
		sess.Expiration = s.now().Add(-time.Second)
	}
}

// apiError is an STS error response.
type apiError struct {
	Status  int
	Type    string // Sender or Receiver
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func sender(status int, code, msg string) *apiError {
	return &apiError{Status: status, Type: "Sender", Code: code, Message: msg}
}

// corsHeaders mirror what AWS service endpoints answer a browser: any
// origin, the methods and the request headers asked for, and the response
// headers the JavaScript SDK reads.
func corsHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType, x-amz-request-id, Date")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Access-Control-Max-Age", "86400")
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	corsHeaders(w, r)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeError(w, sender(400, "InvalidQueryParameter", err.Error()))
		return
	}
	action := r.Form.Get("Action")
	if action != "AssumeRoleWithWebIdentity" {
		s.writeError(w, sender(400, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, r.Form.Get("Version"))))
		return
	}
	if v := r.Form.Get("Version"); v != "2011-06-15" {
		s.writeError(w, sender(400, "InvalidAction", "unsupported Version "+v))
		return
	}
	call := Call{RoleARN: r.Form.Get("RoleArn"), SessionName: r.Form.Get("RoleSessionName")}
	call.Duration, _ = strconv.Atoi(r.Form.Get("DurationSeconds"))
	out, err := s.assume(r.Context(), r.Form)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{Status: 500, Type: "Receiver", Code: "InternalFailure", Message: err.Error()}
		}
		call.ErrorCode, call.Message = ae.Code, ae.Message
		s.record(call)
		s.writeError(w, ae)
		return
	}
	s.record(call)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID())
	_ = xml.NewEncoder(w).Encode(out)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID())
	w.WriteHeader(e.Status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		e.Type, e.Code, xmlEscape(e.Message), requestID())
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Constraints from the AssumeRoleWithWebIdentity API reference.
var (
	// RoleSessionName: "Length Constraints: Minimum length of 2. Maximum
	// length of 64. Pattern: [\w+=,.@-]*".
	sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	// RoleArn: "Length Constraints: Minimum length of 20. Maximum length
	// of 2048."
	roleArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/([\w+=,.@/-]+)$`)
)

type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type resultXML struct {
	XMLName xml.Name `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		SubjectFromWebIdentityToken string         `xml:"SubjectFromWebIdentityToken"`
		Audience                    string         `xml:"Audience"`
		Provider                    string         `xml:"Provider"`
		Credentials                 credentialsXML `xml:"Credentials"`
		AssumedRoleUser             struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
	} `xml:"AssumeRoleWithWebIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

func (s *Server) assume(ctx context.Context, f url.Values) (*resultXML, error) {
	roleArn, name, token := f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("WebIdentityToken")
	// Required parameters: RoleArn, RoleSessionName, WebIdentityToken.
	if roleArn == "" || name == "" || token == "" {
		return nil, sender(400, "MissingParameter", "RoleArn, RoleSessionName and WebIdentityToken are required")
	}
	if len(roleArn) < 20 || len(roleArn) > 2048 {
		return nil, sender(400, "ValidationError", "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048")
	}
	if !sessionNameRe.MatchString(name) {
		return nil, sender(400, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*, length 2-64", name))
	}
	// WebIdentityToken: "Length Constraints: Minimum length of 4. Maximum
	// length of 20000."
	if len(token) < 4 || len(token) > 20000 {
		return nil, sender(400, "ValidationError", "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	duration := 3600 // "Default: 3600 seconds (1 hour)"
	if d := f.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		// "Valid Range: Minimum value of 900. Maximum value of 43200."
		if err != nil || n < 900 || n > 43200 {
			return nil, sender(400, "ValidationError", "Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		duration = n
	}
	m := roleArnRe.FindStringSubmatch(roleArn)
	if m == nil {
		return nil, sender(400, "ValidationError", "roleArn is not an IAM role ARN")
	}
	s.mu.Lock()
	role := s.roles[roleArn]
	now := s.now()
	s.mu.Unlock()

	claims, prov, err := s.verify(ctx, token, now)
	if err != nil {
		return nil, err
	}
	if role == nil {
		// A role that does not exist is refused like one that does not trust
		// the caller: STS does not reveal which.
		return nil, sender(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	// "The requested DurationSeconds exceeds the MaxSessionDuration set
	// for this role."
	if time.Duration(duration)*time.Second > role.MaxSessionDuration {
		return nil, sender(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	ok, reason, err := role.Trust.AllowWebIdentity(prov.ARN, claims)
	if err != nil {
		return nil, &apiError{Status: 500, Type: "Receiver", Code: "InternalFailure", Message: "trust policy: " + err.Error()}
	}
	if !ok {
		return nil, sender(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity ("+reason+")")
	}
	sess := &Session{
		AccessKeyID: "ASIA" + randomUpper(16), SecretAccessKey: randomHex(20), SessionToken: "teststs/" + randomHex(32),
		RoleARN: roleArn, SessionName: name,
		AssumedRoleARN: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", m[1], lastSegment(m[2]), name),
		Subject:        first(claims["sub"]), Email: first(claims["email"]),
		Expiration: now.Add(time.Duration(duration) * time.Second).UTC().Truncate(time.Second),
	}
	s.mu.Lock()
	s.sessions[sess.AccessKeyID] = sess
	s.mu.Unlock()
	out := &resultXML{Xmlns: "https://sts.amazonaws.com/doc/2011-06-15/", RequestID: requestID()}
	out.Result.SubjectFromWebIdentityToken = sess.Subject
	out.Result.Audience = first(claims["aud"])
	out.Result.Provider = strings.TrimPrefix(prov.IssuerURL, "https://")
	out.Result.Credentials = credentialsXML{AccessKeyID: sess.AccessKeyID, SecretAccessKey: sess.SecretAccessKey, SessionToken: sess.SessionToken,
		Expiration: sess.Expiration.Format(time.RFC3339)}
	out.Result.AssumedRoleUser.Arn = sess.AssumedRoleARN
	out.Result.AssumedRoleUser.AssumedRoleID = "AROA" + randomUpper(17) + ":" + name
	return out, nil
}

// verify checks the token as STS does and returns its claims as lists.
func (s *Server) verify(ctx context.Context, token string, now time.Time) (map[string][]string, *Provider, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, sender(400, "InvalidIdentityToken", "Token is not a JWT")
	}
	var unverified struct {
		Iss string `json:"iss"`
	}
	if err := decodeSegment(parts[1], &unverified); err != nil {
		return nil, nil, sender(400, "InvalidIdentityToken", "Token payload is not JSON")
	}
	s.mu.Lock()
	prov := s.providers[strings.TrimSuffix(unverified.Iss, "/")]
	s.mu.Unlock()
	if prov == nil {
		return nil, nil, sender(400, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+unverified.Iss)
	}
	verifier, err := s.verifier(ctx, prov)
	if err != nil {
		// "IDPCommunicationError: The request could not be fulfilled because
		// the identity provider (IDP) ... could not be reached."
		return nil, nil, sender(400, "IDPCommunicationError", err.Error())
	}
	idt, err := verifier.Verify(oidc.ClientContext(ctx, prov.HTTPClient), token)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, nil, sender(400, "ExpiredTokenException", "Token is expired")
		}
		return nil, nil, sender(400, "InvalidIdentityToken", err.Error())
	}
	_ = now
	var raw map[string]any
	if err := idt.Claims(&raw); err != nil {
		return nil, nil, sender(400, "InvalidIdentityToken", err.Error())
	}
	// The audience must be one of the provider's client IDs ("Incorrect
	// token audience").
	if !anyIn(idt.Audience, prov.ClientIDs) {
		return nil, nil, sender(400, "InvalidIdentityToken", "Incorrect token audience")
	}
	claims := map[string][]string{}
	for k, v := range raw {
		switch x := v.(type) {
		case string:
			claims[k] = []string{x}
		case []any:
			for _, e := range x {
				if str, ok := e.(string); ok {
					claims[k] = append(claims[k], str)
				}
			}
		case bool:
			claims[k] = []string{strconv.FormatBool(x)}
		case float64:
			claims[k] = []string{strconv.FormatFloat(x, 'f', -1, 64)}
		}
	}
	// IAM's "Available keys for AWS OIDC federation": when the token has
	// an azp claim, the aud key holds azp and oaud holds the aud claim.
	if azp, ok := claims["azp"]; ok {
		claims["oaud"] = claims["aud"]
		claims["aud"] = azp
	}
	return claims, prov, nil
}

func (s *Server) verifier(ctx context.Context, prov *Provider) (*oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	v := s.verifiers[prov.IssuerURL]
	s.mu.Unlock()
	if v != nil {
		return v, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, prov.HTTPClient), prov.IssuerURL)
	if err != nil {
		return nil, err
	}
	// Audience is checked against the provider's client ID list below.
	v = p.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.now()
	}})
	s.mu.Lock()
	s.verifiers[prov.IssuerURL] = v
	s.mu.Unlock()
	return v, nil
}

func decodeSegment(seg string, v any) error {
	data, err := base64URLDecode(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func anyIn(have, allowed []string) bool {
	for _, h := range have {
		for _, a := range allowed {
			if h == a {
				return true
			}
		}
	}
	return false
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func lastSegment(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUpper(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	for i := 0; i < n; i++ {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b.WriteByte(alphabet[k.Int64()])
	}
	return b.String()
}

func requestID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
