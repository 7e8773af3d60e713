package app

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/contract"
)

// Domain is a custom host name of an app (AppProps.Domains). Each becomes a
// working HTTPS name: it is in the app's certificate (unless the cluster's
// wildcard certificate covers it), the certificate is added to the
// cluster's HTTPS listener by SNI, and the app's listener rule routes it.
type Domain struct {
	// Name is the host name: a subdomain (shop.example.com), an apex
	// (example.com) or a wildcard (*.example.com); lowercase. Required.
	Name *string
	// HostedZone is the Route53 public hosted zone that holds Name, with
	// its zone name (a live zone or HostedZone.fromHostedZoneAttributes).
	// With it the app creates the certificate's DNS validation record and
	// alias A records to the cluster's load balancer.
	// Default: none. The certificate is then validated by a CNAME record
	// you add at your DNS provider (CloudFormation waits for it; the
	// record is in the stack events and in ACM), and the stack outputs the
	// record that points Name at the load balancer (docs/constructs.md,
	// "Custom domains").
	HostedZone awsroute53.IHostedZone
	// RedirectWww also serves www.<Name> and redirects it permanently
	// (301) to https://<Name>, keeping path and query. Not for wildcards.
	// Default: false.
	RedirectWww *bool
	// RedirectPriority is the priority of the www redirect rule
	// (1-50000), unique on the cluster's HTTPS listener.
	// Default: contract.RedirectPriority(Name).
	RedirectPriority *int
}

// DomainResources are what the app created for its custom domains.
type DomainResources struct {
	// Certificate is the app's ACM certificate for its custom domains
	// (DNS validation); nil when it has none outside the cluster's
	// wildcard.
	Certificate awscertificatemanager.Certificate
	// ListenerCertificate adds Certificate to the cluster's HTTPS
	// listener (SNI); nil with Certificate.
	ListenerCertificate awselasticloadbalancingv2.ApplicationListenerCertificate
	// RedirectRules redirect www.<name> to <name>, by name.
	RedirectRules map[string]awselasticloadbalancingv2.ApplicationListenerRule
	// Records are the alias A records to the load balancer, by host name
	// (only names with a hosted zone).
	Records map[string]awsroute53.ARecord
}

func (d *Domain) name() string { return deref(d.Name) }

func (d *Domain) redirectWww() bool { return d.RedirectWww != nil && *d.RedirectWww }

// wwwName is www.<name>, the redirected host.
func (d *Domain) wwwName() string { return "www." + d.name() }

func (d *Domain) redirectPriority() int {
	return intOr(d.RedirectPriority, contract.RedirectPriority(d.name()))
}

// certNames are the names the certificate must hold for d.
func (d *Domain) certNames() []string {
	if d.redirectWww() {
		return []string{d.name(), d.wwwName()}
	}
	return []string{d.name()}
}

// coveredBy reports whether the cluster's wildcard certificate *.<domain>
// (and its wildcard record) already serves name: exactly one label under
// the cluster domain. A token cluster domain covers nothing.
func coveredBy(clusterDomain *string, name string) bool {
	if clusterDomain == nil || *awscdk.Token_IsUnresolved(clusterDomain) {
		return false
	}
	label, rest, ok := strings.Cut(name, ".")
	return ok && label != "*" && rest == *clusterDomain
}

// zoneName returns the hosted zone's name, or "" when it is a token or the
// zone has none (HostedZone.fromHostedZoneId).
func zoneName(z awsroute53.IHostedZone) (name string, err error) {
	defer func() {
		if r := recover(); r != nil {
			name, err = "", fmt.Errorf("the zone has no name (import it with HostedZone.fromHostedZoneAttributes)")
		}
	}()
	n := z.ZoneName()
	if n == nil || *awscdk.Token_IsUnresolved(n) {
		return "", nil
	}
	return strings.TrimSuffix(*n, "."), nil
}

// inZone reports whether name (a wildcard counts as its parent) is the zone
// apex or under it.
func inZone(name, zone string) bool {
	name = strings.TrimPrefix(name, "*.")
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// validateDomains checks AppProps.Domains, naming each field
// (domains[i].name, ...).
func (p *AppProps) validateDomains() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(p.Domains) > MaxDomains {
		add("domains: %d given, at most %d allowed (an ALB rule takes %d condition values, a quota that cannot be raised; one is <app>.<cluster domain>)",
			len(p.Domains), MaxDomains, contract.ALBConditionValuesPerRule)
	}
	seen := map[string]string{}
	claim := func(host, field string) {
		if prev, dup := seen[host]; dup {
			add("%s: %q is listed twice (also %s)", field, host, prev)
			return
		}
		seen[host] = field
	}
	var clusterDomain *string
	if p.Cluster != nil {
		clusterDomain = safeDomain(p.Cluster)
	}
	for i, d := range p.Domains {
		field := fmt.Sprintf("domains[%d]", i)
		if d == nil || d.Name == nil {
			add("%s.name: required", field)
			continue
		}
		name := *d.Name
		if *awscdk.Token_IsUnresolved(d.Name) {
			add("%s.name: must be a literal host name, not a token (the certificate and rules are planned at synth)", field)
			continue
		}
		if err := validateDomain(name); err != nil {
			add("%s.name: %w", field, err)
			continue
		}
		if clusterDomain != nil && !*awscdk.Token_IsUnresolved(clusterDomain) {
			switch {
			case name == "*."+*clusterDomain:
				add("%s.name %q: is the cluster's own wildcard; it would take every app's host name", field, name)
			case p.Name != nil && name == *p.Name+"."+*clusterDomain:
				add("%s.name %q: is the app's default host name, routed already", field, name)
			}
		}
		claim(name, field+".name")
		if d.redirectWww() {
			if strings.HasPrefix(name, "*.") {
				add("%s.redirectWww: a wildcard name %q has no single www name to redirect", field, name)
			} else {
				claim(d.wwwName(), field+".redirectWww")
			}
			if d.RedirectPriority != nil && (*d.RedirectPriority < 1 || *d.RedirectPriority > MaxPriority) {
				add("%s.redirectPriority %d: must be between 1 and %d", field, *d.RedirectPriority, MaxPriority)
			} else if p.Priority != nil && d.redirectPriority() == *p.Priority || p.Name != nil && p.Priority == nil && d.redirectPriority() == RulePriority(*p.Name) {
				add("%s.redirectPriority %d: is the app's own rule priority; set another", field, d.redirectPriority())
			}
		} else if d.RedirectPriority != nil {
			add("%s.redirectPriority: only with redirectWww", field)
		}
		if d.HostedZone != nil {
			zone, err := zoneName(d.HostedZone)
			switch {
			case err != nil:
				add("%s.hostedZone: %w", field, err)
			case zone != "" && !inZone(name, zone):
				add("%s.hostedZone: %q is not in hosted zone %q; the zone must be %s or a parent of it", field, name, zone, strings.TrimPrefix(name, "*."))
			}
		}
	}
	// The load balancer evaluates rules lowest priority first: a wildcard
	// of the app's rule would take a www name of its own redirect rule
	// when the app's rule comes first.
	if p.Name != nil {
		prio := intOr(p.Priority, RulePriority(*p.Name))
		for i, w := range p.Domains {
			if w == nil || w.Name == nil || !strings.HasPrefix(*w.Name, "*.") {
				continue
			}
			for j, d := range p.Domains {
				if d != nil && d.Name != nil && d.redirectWww() && strings.HasSuffix(d.wwwName(), (*w.Name)[1:]) && prio < d.redirectPriority() {
					add("domains[%d].name %q: also matches www name %q of domains[%d], whose redirect rule (priority %d) comes after the app's rule (%d): set domains[%d].redirectPriority below %d",
						i, *w.Name, d.wwwName(), j, d.redirectPriority(), prio, j, prio)
				}
			}
		}
	}
	n := 0
	for _, d := range p.Domains {
		if d != nil && d.Name != nil && !coveredBy(clusterDomain, *d.Name) {
			n += len(d.certNames())
		}
	}
	if n > contract.ACMDomainNamesPerCertificate {
		add("domains: the app's certificate would hold %d names, ACM's default quota is %d per certificate", n, contract.ACMDomainNamesPerCertificate)
	}
	return errs
}

// safeDomain is the cluster domain, or nil when the cluster cannot tell
// (a placeholder during validation).
func safeDomain(c interface{ Domain() *string }) (d *string) {
	defer func() {
		if recover() != nil {
			d = nil
		}
	}()
	return c.Domain()
}

// newDomains creates the certificate, its listener attachment, the www
// redirects, the alias records and the outputs of AppProps.Domains.
func (a *App) newDomains(props *AppProps) {
	a.Domains = DomainResources{
		RedirectRules: map[string]awselasticloadbalancingv2.ApplicationListenerRule{},
		Records:       map[string]awsroute53.ARecord{},
	}
	if len(props.Domains) == 0 {
		return
	}
	listener := props.Cluster.HttpsListener()
	clusterDomain := props.Cluster.Domain()
	lb := props.Cluster.SharedLoadBalancer()
	var names []string
	zones := map[string]awsroute53.IHostedZone{}
	for _, d := range props.Domains {
		if coveredBy(clusterDomain, d.name()) {
			continue
		}
		for _, n := range d.certNames() {
			names = append(names, n)
			if d.HostedZone != nil {
				zones[n] = d.HostedZone
			}
		}
	}
	if len(names) > 0 {
		validation := awscertificatemanager.CertificateValidation_FromDns(nil)
		if len(zones) > 0 {
			// Names without a zone get no DomainValidationOption: ACM
			// waits for the CNAME the user adds (docs/constructs.md).
			m := map[string]awsroute53.IHostedZone{}
			for n, z := range zones {
				m[n] = z
			}
			validation = awscertificatemanager.CertificateValidation_FromDnsMultiZone(&m)
		}
		var sans *[]*string
		if len(names) > 1 {
			sans = jsii.Strings(names[1:]...)
		}
		a.Domains.Certificate = awscertificatemanager.NewCertificate(a.Construct, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
			DomainName:              jsii.String(names[0]),
			SubjectAlternativeNames: sans,
			Validation:              validation,
			CertificateName:         jsii.String(a.Prefix + "-" + a.Name),
		})
		a.Domains.ListenerCertificate = awselasticloadbalancingv2.NewApplicationListenerCertificate(a.Construct, jsii.String("ListenerCertificate"), &awselasticloadbalancingv2.ApplicationListenerCertificateProps{
			Listener:     listener,
			Certificates: &[]awselasticloadbalancingv2.IListenerCertificate{awselasticloadbalancingv2.ListenerCertificate_FromCertificateManager(a.Domains.Certificate)},
		})
		awscdk.NewCfnOutput(a.Construct, jsii.String("CertificateArn"), &awscdk.CfnOutputProps{
			Value: a.Domains.Certificate.CertificateArn(),
			Description: jsii.String("Wharf app " + a.Name + ": certificate of " + strings.Join(names, ", ") +
				"; its DNS validation records: aws acm describe-certificate --certificate-arn <this> --query Certificate.DomainValidationOptions[].ResourceRecord"),
		})
	}
	target := awsroute53.RecordTarget_FromAlias(awsroute53targets.NewLoadBalancerTarget(lb, nil))
	for _, d := range props.Domains {
		name := d.name()
		if d.redirectWww() {
			// Construct IDs carry the name, not the list index, so
			// reordering the list replaces nothing.
			a.Domains.RedirectRules[name] = awselasticloadbalancingv2.NewApplicationListenerRule(a.Construct, jsii.String("Redirect "+d.wwwName()), &awselasticloadbalancingv2.ApplicationListenerRuleProps{
				Listener:   listener,
				Priority:   jsii.Number(float64(d.redirectPriority())),
				Conditions: &[]awselasticloadbalancingv2.ListenerCondition{awselasticloadbalancingv2.ListenerCondition_HostHeaders(jsii.Strings(d.wwwName()))},
				Action: awselasticloadbalancingv2.ListenerAction_Redirect(&awselasticloadbalancingv2.RedirectOptions{
					Host:      jsii.String(name),
					Protocol:  jsii.String("HTTPS"),
					Port:      jsii.String("443"),
					Permanent: jsii.Bool(true),
				}),
			})
		}
		if coveredBy(clusterDomain, name) {
			continue // the cluster's wildcard record already points here
		}
		hosts := []string{name}
		if d.redirectWww() {
			hosts = append(hosts, d.wwwName())
		}
		for _, h := range hosts {
			if d.HostedZone != nil {
				a.Domains.Records[h] = awsroute53.NewARecord(a.Construct, jsii.String("Record "+h), &awsroute53.ARecordProps{
					Zone:       d.HostedZone,
					RecordName: jsii.String(h + "."),
					Target:     target,
					Comment:    jsii.String("Wharf app " + a.Name + ": custom domain on the cluster load balancer"),
				})
				continue
			}
			awscdk.NewCfnOutput(a.Construct, jsii.String("Dns "+h), &awscdk.CfnOutputProps{
				Value: lb.LoadBalancerDnsName(),
				Description: jsii.String("Wharf app " + a.Name + ": add at your DNS provider a CNAME record " + h +
					" with this value (at a zone apex, which cannot hold a CNAME: the provider's ALIAS or ANAME record)"),
			})
		}
	}
}

// DomainNames returns plain custom domains (no hosted zone, no redirect)
// for AppProps.Domains.
func DomainNames(names ...string) []*Domain {
	ds := make([]*Domain, len(names))
	for i, n := range names {
		ds[i] = &Domain{Name: jsii.String(n)}
	}
	return ds
}
