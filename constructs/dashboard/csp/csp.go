// Package csp builds the dashboard's Content-Security-Policy. It has no CDK
// dependency, so the construct (constructs/dashboard) and the end-to-end
// harness (internal/dashfake) serve the very same policy.
package csp

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Services are the AWS APIs the dashboard calls from the browser, by their
// endpoint prefix (sts, ssm, logs, ecs, codebuild). All five answer CORS
// requests; see docs/dashboard.md for the evidence.
var Services = []string{"codebuild", "ecs", "logs", "ssm", "sts"}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)

// Endpoints returns the HTTPS origins of Services in the given regions
// (https://ssm.eu-west-1.amazonaws.com, ...), sorted and without duplicates.
// China regions use amazonaws.com.cn. It rejects a malformed region.
func Endpoints(regions []string) ([]string, error) {
	set := map[string]bool{}
	for _, r := range regions {
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("region %q is not an AWS region name (like eu-west-1)", r)
		}
		suffix := "amazonaws.com"
		if strings.HasPrefix(r, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		for _, s := range Services {
			set[fmt.Sprintf("https://%s.%s.%s", s, r, suffix)] = true
		}
	}
	out := make([]string, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	sort.Strings(out)
	return out, nil
}

// Origin returns scheme://host[:port] of an absolute http(s) URL. Only
// loopback hosts may use http (local fakes); everything else must be https.
func Origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	loopback := u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1"
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return "", fmt.Errorf("%q must use https", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Policy returns the Content-Security-Policy header value. connectSrc are
// the origins the page may call besides itself: the OIDC issuer and the AWS
// endpoints. Nothing else is allowed: no inline script or style, no eval, no
// framing, no plugins, no third-party fonts or images.
func Policy(connectSrc []string) string {
	cs := append([]string{"'self'"}, connectSrc...)
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src " + strings.Join(cs, " "),
		"manifest-src 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"object-src 'none'",
	}, "; ")
}

// ForPlatform is Policy for an issuer URL and the platform's regions.
func ForPlatform(issuer string, regions []string) (string, error) {
	o, err := Origin(issuer)
	if err != nil {
		return "", fmt.Errorf("issuer: %w", err)
	}
	eps, err := Endpoints(regions)
	if err != nil {
		return "", err
	}
	return Policy(append([]string{o}, eps...)), nil
}
