package iampolicy

import (
	"fmt"
	"strings"
)

// WebIdentityRequest builds the request STS authorizes for
// sts:AssumeRoleWithWebIdentity with a token from the OIDC provider
// providerARN (arn:aws:iam::<account>:oidc-provider/<host/path>). Each
// claim becomes the context key "<host/path>:<claim>" ("Available keys for
// AWS OIDC federation", IAM User Guide,
// reference_policies_iam-condition-keys.html#condition-keys-wif: the keys
// are the provider's name followed by the claim, e.g.
// "accounts.google.com:aud"). The caller passes the claims of a verified
// token: aud, sub, and any other claim its trust policies read.
func WebIdentityRequest(providerARN string, claims map[string][]string) (Request, error) {
	parts := strings.SplitN(providerARN, ":", 6)
	if len(parts) < 6 || parts[2] != "iam" || !strings.HasPrefix(parts[5], "oidc-provider/") {
		return Request{}, fmt.Errorf("iampolicy: %q is not an OIDC provider ARN", providerARN)
	}
	issuer := strings.TrimPrefix(parts[5], "oidc-provider/")
	ctx := Context{"aws:FederatedProvider": {providerARN}}
	for claim, v := range claims {
		ctx[issuer+":"+claim] = v
	}
	return Request{
		Action:    "sts:AssumeRoleWithWebIdentity",
		Principal: &Principal{Type: "Federated", ID: providerARN},
		Context:   ctx,
	}, nil
}

// AssumeRoleRequest builds the request STS authorizes for sts:AssumeRole
// by the IAM principal principalARN, with externalID ("" for none) as
// sts:ExternalId, and aws:PrincipalArn and aws:PrincipalAccount from the
// principal. extra adds or overrides context keys.
//
// For an assumed-role session (arn:<p>:sts::<acct>:assumed-role/<role>/<session>)
// aws:PrincipalArn is the role's ARN, not the session's: the IAM User
// Guide's aws:PrincipalArn entry lists "IAM role" with the role ARN for a
// request made with a role's credentials.
func AssumeRoleRequest(principalARN, externalID string, extra Context) Request {
	pa := principalARN
	if r := sessionRole(principalARN); r != "" {
		pa = r
	}
	ctx := Context{"aws:PrincipalArn": {pa}}
	if a := accountOf(principalARN); a != "" {
		ctx["aws:PrincipalAccount"] = []string{a}
	}
	if externalID != "" {
		ctx["sts:ExternalId"] = []string{externalID}
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return Request{Action: "sts:AssumeRole", Principal: &Principal{Type: "AWS", ID: principalARN}, Context: ctx}
}

// EvaluateTrust decides whether the role whose trust policy is trust may
// be assumed with req (built by WebIdentityRequest or AssumeRoleRequest).
// The trust policy is the role's resource policy: its statements name
// principals and no Resource.
func EvaluateTrust(trust *Policy, req Request) (Decision, error) {
	if trust == nil {
		return Decision{}, fmt.Errorf("iampolicy: no trust policy")
	}
	if req.Principal == nil {
		return Decision{}, fmt.Errorf("iampolicy: a trust evaluation needs the request's principal")
	}
	return Evaluate(req, trust)
}
