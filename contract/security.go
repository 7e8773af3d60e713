package contract

import (
	"regexp"
	"slices"
	"strings"
	"sync"
)

// ControlPlaneRole is <prefix>-controlplane, the name of the control-plane
// Lambda's execution role. It has a fixed name so that the management and
// observer roles can trust exactly it (aws:PrincipalArn), not every
// principal of the control-plane account that learns the external ID.
func (n Names) ControlPlaneRole() string { return n.Prefix + "-controlplane" }

// ControlPlaneRoleARN is arn:<partition>:iam::<account>:role/<prefix>-controlplane.
func (n Names) ControlPlaneRoleARN(partition, account string) string {
	return RoleARN(partition, account, n.ControlPlaneRole())
}

// Email domains (AllowedEmailDomains, issue 14): a user role may admit
// every user whose verified email is at a company domain, through a
// StringLike condition "*@<domain>" on the issuer's email claim.

// emailDomainRE is compiled on first use (counted repetitions: about 0.2 ms
// of package init otherwise).
var emailDomainRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
})

// PublicEmailDomains are domains where anyone can register an address;
// admitting one would admit anyone the issuer lets sign in with it.
var PublicEmailDomains = []string{
	"aol.com", "gmail.com", "googlemail.com", "gmx.com", "gmx.de", "gmx.net", "hotmail.com", "icloud.com",
	"live.com", "mail.com", "me.com", "msn.com", "outlook.com", "proton.me", "protonmail.com", "web.de",
	"yahoo.com", "yandex.com", "yandex.ru", "zoho.com",
}

// ValidateEmailDomain checks one allowed email domain: a lowercase DNS
// name of at least two labels (IAM's StringLike compares case-sensitively,
// and issuers send domains in lowercase), without wildcards, and not a
// domain where anyone can register an address.
func ValidateEmailDomain(domain string) error {
	switch {
	case domain == "":
		return Errorf("allowedEmailDomains", RuleRequired, "an entry is empty: a domain like acme.com")
	case strings.ContainsAny(domain, "@*?"):
		return Errorf("allowedEmailDomains", RulePattern, "%q must be a bare domain like acme.com, without @ or wildcards (Wharf writes the pattern *@<domain>)", domain)
	case len(domain) > 253 || !emailDomainRE().MatchString(domain):
		return Errorf("allowedEmailDomains", RulePattern, "%q must be a lowercase domain name like acme.com (IAM matches the email claim case-sensitively)", domain)
	case slices.Contains(PublicEmailDomains, domain):
		return Errorf("allowedEmailDomains", RuleReserved, "%q is a public email service where anyone can register an address; list those users in allowedUsers instead", domain)
	}
	return nil
}

// EmailDomainPattern is the StringLike value that matches every address at
// domain: "*@acme.com" matches "alice@acme.com" but not
// "alice@acme.com.evil.com" or "alice@sub.acme.com".
func EmailDomainPattern(domain string) string { return "*@" + domain }

// MalformedEmailPatterns are the StringLike values of the deny statement
// that accompanies domain patterns: a claim with two @
// ("x@evil.com@acme.com") or with nothing before the @ ("@acme.com")
// ends in @<domain> without being an address at it.
var MalformedEmailPatterns = []string{"*@*@*", "@*"}

// EmailDomainDenySize bounds the size of that deny statement in a trust
// policy (JSON without whitespace): effect, federated principal ARN,
// action and one StringLike condition on <issuerKey>:email with
// MalformedEmailPatterns.
func EmailDomainDenySize(issuerKey string) int { return 200 + 2*len(issuerKey) }

// EmailDomainPatterns maps domains to their StringLike patterns.
func EmailDomainPatterns(domains []string) []string {
	out := make([]string, 0, len(domains))
	for _, d := range domains {
		out = append(out, EmailDomainPattern(d))
	}
	return out
}

// UserTrustPolicySize estimates an app user role's trust policy as IAM
// counts it, never undercounting: one statement per non-empty form of
// allowed user (emails, subjects, domain patterns; TrustPolicySize) plus
// the deny that comes with domain patterns.
func UserTrustPolicySize(issuerKey string, clientIDs, users, subjects, domains []string) int {
	n := TrustPolicySize(issuerKey, clientIDs, users, subjects, EmailDomainPatterns(domains))
	if len(domains) > 0 {
		n += EmailDomainDenySize(issuerKey)
	}
	return n
}
