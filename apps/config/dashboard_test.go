package config

import (
	"strings"
	"testing"
)

func TestValidateDashboard(t *testing.T) {
	const cert = "arn:aws:acm:us-east-1:111122223333:certificate/0b7e6a4c-1d2e-4f3a-9b8c-7d6e5f4a3b2c"
	for _, c := range []struct {
		name   string
		region string
		d      Dashboard
		want   string // "" means valid
	}{
		{"empty section", "eu-west-1", Dashboard{}, ""},
		{"domain and us-east-1 cert", "eu-west-1", Dashboard{DomainName: "dashboard.example.com", CertificateArn: cert}, ""},
		{"created cert in us-east-1", "us-east-1", Dashboard{DomainName: "dashboard.example.com", HostedZone: &HostedZone{ID: "Z0123456789EXAMPLEABC", Name: "example.com"}}, ""},
		{"cert in another region", "eu-west-1", Dashboard{DomainName: "d.example.com", CertificateArn: strings.Replace(cert, "us-east-1", "eu-west-1", 1)}, "dashboard.certificateArn"},
		{"domain without cert outside us-east-1", "eu-west-1", Dashboard{DomainName: "d.example.com", HostedZone: &HostedZone{ID: "Z0123456789EXAMPLEABC", Name: "example.com"}}, "dashboard.certificateArn: is required"},
		{"zone does not hold domain", "us-east-1", Dashboard{DomainName: "d.example.org", HostedZone: &HostedZone{ID: "Z0123456789EXAMPLEABC", Name: "example.com"}}, "dashboard.hostedZone.name"},
		{"bad domain", "eu-west-1", Dashboard{DomainName: "Dash_board", CertificateArn: cert}, "dashboard.domainName"},
		{"cert without domain", "eu-west-1", Dashboard{CertificateArn: cert}, "needs dashboard.domainName"},
		{"bad waf", "eu-west-1", Dashboard{WebACLArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/0b7e6a4c-1d2e-4f3a-9b8c-7d6e5f4a3b2c"}, "dashboard.webAclArn"},
	} {
		d := c.d
		p := &Platform{Region: c.region, Dashboard: &d}
		var e Errors
		p.validateDashboard(&e)
		err := e.err()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
