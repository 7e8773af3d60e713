package contract

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestTrustPolicySize: the estimate never undercounts the policy IAM would
// store (JSON without whitespace) for one statement (admin role) or two
// (app user role: emails and subjects), and is at most 90 characters over
// per statement (the skeleton is measured on the longer email statement).
func TestTrustPolicySize(t *testing.T) {
	key := "login.example.com/realms/eng"
	stmt := func(op, claim string, values []string) map[string]any {
		return map[string]any{
			"Action": "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{
				"StringEquals": map[string]any{key + ":aud": []string{"wharf-cli"}},
				op:             map[string]any{key + ":" + claim: values},
			},
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": "arn:aws-us-gov:iam::111122223333:oidc-provider/" + key},
		}
	}
	users := []string{"alice@example.com", "bob@example.com", "carol.long-name@example.co.uk"}
	subs := []string{"248289761001", "00u1abcd"}
	for _, tc := range []struct {
		stmts []any
		u, s  []string
		nstmt int
	}{
		{[]any{stmt("StringEqualsIgnoreCase", "email", users)}, users, nil, 1},
		{[]any{stmt("StringEquals", "sub", subs)}, nil, subs, 1},
		{[]any{stmt("StringEqualsIgnoreCase", "email", users), stmt("StringEquals", "sub", subs)}, users, subs, 2},
	} {
		b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": tc.stmts})
		est := TrustPolicySize(key, []string{"wharf-cli"}, tc.u, tc.s)
		if est < len(b) || est > len(b)+90*tc.nstmt {
			t.Errorf("estimate %d for a %d-character policy with %d statements", est, len(b), tc.nstmt)
		}
	}
}

// TestTrustPolicyError: the message states the count that fits, and that
// count really fits while one more does not.
func TestTrustPolicyError(t *testing.T) {
	key := "login.example.com"
	var users []string
	for i := 0; i < 60; i++ {
		users = append(users, fmt.Sprintf("firstname.lastname%03d@engineering.acme.com", i)) // 42 characters
	}
	n := TrustPolicySize(key, []string{"wharf-cli"}, users)
	msg := TrustPolicyError("allowedUsers", n, users)
	var fit, fitMax int
	if _, err := fmt.Sscanf(msg[strings.Index(msg, "about ")+len("about "):], "%d", new(int)); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(msg, "; about ")
	if i < 0 {
		t.Fatalf("no count in %q", msg)
	}
	fmt.Sscanf(msg[i+len("; about "):], "%d entries of this length fit (about %d", &fit, &fitMax)
	if TrustPolicySize(key, []string{"wharf-cli"}, users[:fit]) > TrustPolicyDefaultLimit || TrustPolicySize(key, []string{"wharf-cli"}, users[:fit+1]) <= TrustPolicyDefaultLimit {
		t.Errorf("%d said to fit: %q", fit, msg)
	}
	if fitMax <= fit || !strings.Contains(msg, "4096") || !strings.Contains(msg, "Large teams") {
		t.Errorf("message %q", msg)
	}
}

// TestUserTrustPolicySizeWithDomains: with domains the user role's trust
// policy gains a StringLike statement and the deny of malformed emails;
// the estimate still never undercounts.
func TestUserTrustPolicySizeWithDomains(t *testing.T) {
	key := "login.example.com/realms/eng"
	principal := map[string]any{"Federated": "arn:aws-us-gov:iam::111122223333:oidc-provider/" + key}
	allow := func(op, claim string, values []string) map[string]any {
		return map[string]any{"Action": "sts:AssumeRoleWithWebIdentity", "Effect": "Allow", "Principal": principal,
			"Condition": map[string]any{"StringEquals": map[string]any{key + ":aud": []string{"wharf-cli"}}, op: map[string]any{key + ":" + claim: values}}}
	}
	users := []string{"alice@example.com", "bob@example.com"}
	domains := []string{"acme.com", "eng.acme-industries.co.uk"}
	deny := map[string]any{"Action": "sts:AssumeRoleWithWebIdentity", "Effect": "Deny", "Principal": principal,
		"Condition": map[string]any{"StringLike": map[string]any{key + ":email": MalformedEmailPatterns}}}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		allow("StringEqualsIgnoreCase", "email", users), allow("StringLike", "email", EmailDomainPatterns(domains)), deny}})
	est := UserTrustPolicySize(key, []string{"wharf-cli"}, users, nil, domains)
	if est < len(b) || est > len(b)+3*90 {
		t.Errorf("estimate %d for a %d-character policy", est, len(b))
	}
	for _, d := range []string{"acme.com", "eng.acme.co.uk", "xn--bcher-kva.example"} {
		if err := ValidateEmailDomain(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	for _, d := range []string{"", "acme", "Acme.com", "*.acme.com", "@acme.com", "acme..com", "-acme.com", "gmail.com", "acme.com.", "ac me.com"} {
		if ValidateEmailDomain(d) == nil {
			t.Errorf("%q accepted", d)
		}
	}
}
