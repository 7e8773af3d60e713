package dashfake

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Role is a user role as the test STS sees it: who may assume it (the trust
// policy's StringEquals <issuer>:aud and StringEqualsIgnoreCase
// <issuer>:email conditions, docs/security.md) and which app it belongs to.
type Role struct {
	ARN      string
	App      string
	Audience []string
	Emails   []string
}

// Session is a set of credentials STS handed out.
type Session struct {
	AccessKeyID, Secret, Token string
	Role                       Role
	Email                      string
	Expires                    time.Time
}

// STS answers AssumeRoleWithWebIdentity (awsQuery protocol) like AWS STS:
// it verifies the ID token's RS256 signature against the issuer's key, its
// issuer, expiry and audience, then the role's trust conditions. It is
// stricter than nothing but simpler than IAM: the trust conditions are
// given as lists, not evaluated from the synthesized policy (see
// internal/teststs for that).
type STS struct {
	Issuer  string
	Key     *rsa.PublicKey
	Account string

	mu       sync.Mutex
	roles    map[string]Role
	sessions map[string]*Session
	seq      int
	// Denied counts refused AssumeRoleWithWebIdentity calls by role ARN.
	Denied map[string]int
}

// NewSTS returns an STS trusting tokens of issuer signed with key.
func NewSTS(issuer string, key *rsa.PublicKey, account string, roles ...Role) *STS {
	s := &STS{Issuer: issuer, Key: key, Account: account, roles: map[string]Role{}, sessions: map[string]*Session{}, Denied: map[string]int{}}
	for _, r := range roles {
		s.roles[r.ARN] = r
	}
	return s
}

// Lookup returns the live session of an access key ID.
func (s *STS) Lookup(akid string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[akid]
	if !ok || time.Now().After(ss.Expires) {
		return nil, false
	}
	return ss, true
}

type stsError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeSTSError(w http.ResponseWriter, status int, code, msg string) {
	var e stsError
	e.Xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"
	e.Error.Type = "Sender"
	e.Error.Code = code
	e.Error.Message = msg
	e.RequestID = randomString(12)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(e)
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// ServeHTTP handles one STS query-protocol request.
func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, 400, "InvalidParameterValue", err.Error())
		return
	}
	f := r.Form
	if f.Get("Action") != "AssumeRoleWithWebIdentity" {
		writeSTSError(w, 400, "InvalidAction", "Could not find operation "+f.Get("Action")+" for version "+f.Get("Version"))
		return
	}
	if f.Get("Version") != "2011-06-15" {
		writeSTSError(w, 400, "InvalidParameterValue", "unsupported Version")
		return
	}
	// RoleSessionName: "[\w+=,.@-]*", 2-64 characters (API reference).
	if !sessionNameRE.MatchString(f.Get("RoleSessionName")) {
		writeSTSError(w, 400, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint")
		return
	}
	// DurationSeconds: 900 to the role's maximum (Wharf's roles: 3600).
	dur := 3600
	if d := f.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 900 || n > 3600 {
			writeSTSError(w, 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
			return
		}
		dur = n
	}
	claims, err := s.verify(f.Get("WebIdentityToken"))
	if err != nil {
		writeSTSError(w, 400, "InvalidIdentityToken", err.Error())
		return
	}
	s.mu.Lock()
	role, ok := s.roles[f.Get("RoleArn")]
	s.mu.Unlock()
	email, _ := claims["email"].(string)
	aud, _ := claims["aud"].(string)
	if !ok || !containsFold(role.Emails, email) || !contains(role.Audience, aud) {
		s.mu.Lock()
		s.Denied[f.Get("RoleArn")]++
		s.mu.Unlock()
		writeSTSError(w, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	}
	s.mu.Lock()
	s.seq++
	ss := &Session{
		AccessKeyID: fmt.Sprintf("ASIATEST%012d", s.seq), Secret: randomString(30), Token: randomString(60),
		Role: role, Email: email, Expires: time.Now().Add(time.Duration(dur) * time.Second),
	}
	s.sessions[ss.AccessKeyID] = ss
	s.mu.Unlock()
	name := f.Get("RoleSessionName")
	roleName := role.ARN[strings.LastIndex(role.ARN, "/")+1:]
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleWithWebIdentityResult>
<SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken>
<Audience>%s</Audience>
<AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn><AssumedRoleId>AROATEST:%s</AssumedRoleId></AssumedRoleUser>
<Credentials><SessionToken>%s</SessionToken><SecretAccessKey>%s</SecretAccessKey><Expiration>%s</Expiration><AccessKeyId>%s</AccessKeyId></Credentials>
<Provider>%s</Provider>
</AssumeRoleWithWebIdentityResult>
<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, xmlEsc(fmt.Sprint(claims["sub"])), xmlEsc(aud), s.Account, roleName, xmlEsc(name), xmlEsc(name),
		ss.Token, ss.Secret, ss.Expires.UTC().Format(time.RFC3339), ss.AccessKeyID, xmlEsc(s.Issuer), randomString(12))
}

func xmlEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if v != "" && strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// verify checks an RS256 JWT's signature, iss and exp and returns its claims.
func (s *STS) verify(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the ID token is not a JWT")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, fmt.Errorf("the ID token is not base64url")
	}
	var h struct{ Alg string }
	if json.Unmarshal(hb, &h) != nil || h.Alg != "RS256" {
		return nil, fmt.Errorf("unsupported token algorithm")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(s.Key, crypto.SHA256, sum[:], sig) != nil {
		return nil, fmt.Errorf("the ID token's signature is invalid")
	}
	var c map[string]any
	if err := json.Unmarshal(pb, &c); err != nil {
		return nil, fmt.Errorf("the ID token's claims are not JSON")
	}
	if c["iss"] != s.Issuer {
		return nil, fmt.Errorf("no OpenIDConnect provider found for issuer %v", c["iss"])
	}
	exp, _ := c["exp"].(float64)
	if time.Now().Unix() >= int64(exp) {
		return nil, fmt.Errorf("token is expired")
	}
	return c, nil
}
