package contract

import (
	"fmt"
	"hash/fnv"
)

// Deploy-time limits that Wharf checks at synth (issue 14): IAM's trust
// policy size quota and the uniqueness of listener-rule priorities.

const (
	// TrustPolicyDefaultLimit is IAM's default quota for the size of a role
	// trust policy, in characters with whitespace excluded ("Role trust
	// policy length", IAM and AWS STS quotas). Wharf validates against it
	// so a fresh account deploys.
	TrustPolicyDefaultLimit = 2048
	// TrustPolicyMaxLimit is the most the quota can be raised to, by a
	// Service Quotas request for IAM's "Role trust policy length".
	TrustPolicyMaxLimit = 4096

	// MinRulePriority and MaxRulePriority bound the listener-rule
	// priorities Wharf derives from app names; 1-999 are left for rules
	// added by hand.
	MinRulePriority = 1000
	MaxRulePriority = 50000
)

// trustStatementSkeleton is the size of one web-identity trust statement
// without its values: Version, Statement, Effect, Principal, Action, two
// condition blocks, the provider ARN prefix (measured: 251; see
// TestTrustPolicySize in constructs/account and constructs/app).
const trustStatementSkeleton = 260

// TrustPolicySize estimates the length of a web-identity trust policy as
// IAM counts it (JSON without whitespace), never undercounting: one
// statement per non-empty list in values, each naming the issuer key (the
// issuer URL without https://) three times, the client IDs (aud) and the
// list's values (emails or subjects), each value adding its quotes and a
// comma.
func TrustPolicySize(issuerKey string, clientIDs []string, values ...[]string) int {
	n := 0
	for _, list := range values {
		if len(list) == 0 {
			continue
		}
		n += trustStatementSkeleton + 3*len(issuerKey)
		for _, c := range clientIDs {
			n += len(c) + 3
		}
		for _, v := range list {
			n += len(v) + 3
		}
	}
	return n
}

// TrustPolicyError explains a trust policy over IAM's default quota: its
// estimated size, how many of the listed values fit, the quota increase,
// and the domain pattern for larger teams. what names the list
// ("allowedUsers", "administrators"); values are all values listed in the
// policy.
func TrustPolicyError(what string, size int, values []string) string {
	total := 0
	for _, v := range values {
		total += len(v) + 3
	}
	base := size - total // the policy without any of the values
	avg := 43
	if len(values) > 0 {
		avg = (total + len(values) - 1) / len(values)
	}
	fit := max(0, (TrustPolicyDefaultLimit-base)/avg)
	fitMax := max(0, (TrustPolicyMaxLimit-base)/avg)
	return fmt.Sprintf("%s: %d entries make a trust policy of about %d characters, over IAM's default quota of %d; "+
		"about %d entries of this length fit (about %d after raising IAM's \"Role trust policy length\" quota to %d in Service Quotas); "+
		"for larger teams see docs/config.md, \"Large teams\"",
		what, len(values), size, TrustPolicyDefaultLimit, fit, fitMax, TrustPolicyMaxLimit)
}

// RulePriority is the listener-rule priority Wharf derives from an app name:
// FNV-1a of the name, mapped onto MinRulePriority..MaxRulePriority. It is
// the same in every synth. Two apps on one cluster collide with probability
// about n²/98,000 for n apps (0.4% for 20 apps); the platform config
// reports a collision, and the fix is to set one app's priority.
func RulePriority(app string) int {
	h := fnv.New32a()
	h.Write([]byte(app))
	return MinRulePriority + int(h.Sum32()%uint32(MaxRulePriority-MinRulePriority+1))
}

// Application Load Balancer quotas the shared HTTPS listener of a cluster is
// checked against at synth (issue 13), from the Elastic Load Balancing user
// guide, "Quotas for your Application Load Balancers". Its English edition
// reads "Certificates per Application Load Balancer (excluding default
// certificates) 25 Yes" (adjustable; per load balancer, not per listener);
// its Rules section was read in the page's Japanese and Chinese editions:
// rules per Application Load Balancer (excluding default rules) 100,
// adjustable, and condition values per rule 5, not adjustable. ACM's
// "Quotas" page: "The default quota is 10 domain names for each ACM
// certificate."
const (
	// ALBCertificatesQuota is the default quota of certificates per
	// Application Load Balancer, the listener's default certificate
	// excluded.
	ALBCertificatesQuota = 25
	// ALBRulesQuota is the default quota of rules per Application Load
	// Balancer, default rules excluded.
	ALBRulesQuota = 100
	// ALBConditionValuesPerRule is the fixed quota of condition values
	// (host names of a host-header condition) per rule.
	ALBConditionValuesPerRule = 5
	// ACMDomainNamesPerCertificate is ACM's default quota of domain names
	// per certificate.
	ACMDomainNamesPerCertificate = 10
)

// RedirectPriority is the listener-rule priority Wharf derives for the
// redirect of www.<domain> to <domain>: RulePriority of "www." + domain.
// Domains are unique per cluster, so only a hash collision (reported by the
// platform config) can make it equal another rule's priority.
func RedirectPriority(domain string) int { return RulePriority("www." + domain) }
