package assemble

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/descriptor"
	"github.com/wharf-paas/wharf/constructs/dashboard"
	"github.com/wharf-paas/wharf/contract"
)

// DashboardStackName is <prefix>-dashboard.
func DashboardStackName(prefix string) string { return contract.Names{Prefix: prefix}.DashboardStack() }

// dashboardProps builds the Dashboard props of cfg (nil when the config has
// no dashboard section). The descriptor it serves is the one the platform
// app writes to cdk.out/wharf-platform.json.
func dashboardProps(cfg *config.Platform) (*dashboard.DashboardProps, error) {
	if cfg.Dashboard == nil {
		return nil, nil
	}
	doc, err := descriptor.Marshal(descriptor.FromConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("platform descriptor: %w", err)
	}
	props := &dashboard.DashboardProps{Prefix: jsii.String(cfg.Prefix), Platform: jsii.String(string(doc))}
	if d := cfg.Dashboard; d.DomainName != "" {
		props.DomainName = jsii.String(d.DomainName)
	}
	if cfg.Dashboard.WebACLArn != "" {
		props.WebAclArn = jsii.String(cfg.Dashboard.WebACLArn)
	}
	_, err = props.Validate(jsii.String(cfg.Region))
	return props, err
}

// buildDashboard adds the dashboard stack.
func (p *Platform) buildDashboard(scope constructs.Construct, props *dashboard.DashboardProps) {
	cfg := p.Config
	st := p.newStack(scope, DashboardStackName(cfg.Prefix), "dashboard", "Wharf web dashboard: static site on CloudFront")
	d := cfg.Dashboard
	if d.HostedZone != nil {
		props.HostedZone = awsroute53.HostedZone_FromHostedZoneAttributes(st, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
			HostedZoneId: jsii.String(d.HostedZone.ID), ZoneName: jsii.String(d.HostedZone.Name),
		})
	}
	if d.CertificateArn != "" {
		props.Certificate = awscertificatemanager.Certificate_FromCertificateArn(st, jsii.String("Certificate"), jsii.String(d.CertificateArn))
	}
	p.DashboardStack = st
	p.Dashboard = dashboard.NewDashboard(st, jsii.String("Dashboard"), props)
}
