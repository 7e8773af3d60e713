package config

import (
	"regexp"
	"strings"
)

// Dashboard configures the web dashboard (constructs/dashboard). An empty
// section (dashboard: {}) serves it at its CloudFront address.
type Dashboard struct {
	// DomainName is a custom domain for the dashboard
	// (dashboard.example.com). Default: none.
	DomainName string `yaml:"domainName" json:"domainName"`
	// CertificateArn is an ACM certificate for DomainName in us-east-1
	// (CloudFront uses only that region). Required with DomainName unless
	// the platform's region is us-east-1 and HostedZone is set, in which
	// case a DNS-validated certificate is created.
	CertificateArn string `yaml:"certificateArn" json:"certificateArn"`
	// HostedZone holds DomainName; the alias records are added to it.
	// Default: none (point DomainName at the distribution yourself).
	HostedZone *HostedZone `yaml:"hostedZone" json:"hostedZone"`
	// WebACLArn attaches an AWS WAF web ACL (scope CLOUDFRONT). Default: none.
	WebACLArn string `yaml:"webAclArn" json:"webAclArn"`
}

var (
	acmUSEast1RE = regexp.MustCompile(`^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$`)
	wafACLRE     = regexp.MustCompile(`^arn:aws:wafv2:us-east-1:\d{12}:global/webacl/[\w-]+/[0-9a-f-]{36}$`)
)

func (p *Platform) validateDashboard(e *Errors) {
	d := p.Dashboard
	if d == nil {
		return
	}
	if d.DomainName != "" {
		checkDomain(e, "dashboard.domainName", d.DomainName, false)
	}
	if d.CertificateArn != "" {
		if d.DomainName == "" {
			e.add("dashboard.certificateArn", "needs dashboard.domainName")
		}
		if !acmUSEast1RE.MatchString(d.CertificateArn) {
			e.add("dashboard.certificateArn", "%q must be an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<id>): CloudFront uses certificates from that region only", d.CertificateArn)
		}
	}
	if d.HostedZone != nil {
		if d.DomainName == "" {
			e.add("dashboard.hostedZone", "needs dashboard.domainName")
		}
		if !zoneIDRE.MatchString(d.HostedZone.ID) {
			e.add("dashboard.hostedZone.id", "%q must be a Route53 hosted zone ID like Z0123456789ABCDEFGHIJ", d.HostedZone.ID)
		}
		zone := strings.TrimSuffix(d.HostedZone.Name, ".")
		if d.DomainName != "" && d.DomainName != zone && !strings.HasSuffix(d.DomainName, "."+zone) {
			e.add("dashboard.hostedZone.name", "%q does not contain dashboard.domainName %q", d.HostedZone.Name, d.DomainName)
		}
	}
	if d.DomainName != "" && d.CertificateArn == "" && (d.HostedZone == nil || p.Region != "us-east-1") {
		e.add("dashboard.certificateArn", "is required with dashboard.domainName: create a certificate for %q in us-east-1 and give its ARN (a certificate is created only when region is us-east-1 and dashboard.hostedZone is set)", d.DomainName)
	}
	if d.WebACLArn != "" && !wafACLRE.MatchString(d.WebACLArn) {
		e.add("dashboard.webAclArn", "%q must be a WAFv2 web ACL ARN of scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)", d.WebACLArn)
	}
}
