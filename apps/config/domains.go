package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wharf-paas/wharf/contract"
)

// wildcardLabel is the leftmost label of a wildcard domain.
const wildcardLabel = "*"

// zoneName is the hosted zone's name without a trailing dot.
func (z HostedZone) zoneName() string { return strings.TrimSuffix(z.Name, ".") }

// inZone reports whether name (a wildcard counts as its parent) is the zone
// apex or under it.
func inZone(name, zone string) bool {
	name = strings.TrimPrefix(name, wildcardLabel+".")
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// coveredByCluster reports whether the cluster's wildcard certificate and
// record (*.<cluster domain>) already serve name.
func coveredByCluster(name string, c *Cluster) bool {
	label, rest, ok := strings.Cut(name, ".")
	return c != nil && ok && label != wildcardLabel && rest == c.Domain
}

// needsCertificate reports whether the app's domains need a certificate of
// their own on the cluster's load balancer.
func needsCertificate(a *App, c *Cluster) bool {
	for _, d := range a.Domains {
		if !coveredByCluster(d.Name, c) {
			return true
		}
	}
	return false
}

// validateAppDomains checks one app's custom domains: the names, their
// zones, the www redirects, and that no host name belongs to two apps.
// hosts maps every host name claimed so far to the field that claims it.
func (p *Platform) validateAppDomains(e *Errors, path string, a *App, cluster *Cluster, hosts map[string]string) {
	if len(a.Domains) > MaxAppDomains {
		e.add(path+".domains", "%d domains given, at most %d are allowed (an ALB rule holds %d host names, a quota that cannot be raised, and one is <app>.<cluster domain>)",
			len(a.Domains), MaxAppDomains, contract.ALBConditionValuesPerRule)
	}
	claim := func(host, field string) {
		if owner, taken := hosts[host]; taken {
			e.add(field, "%q is already routed to %s; a host name can belong to one app only", host, owner)
			return
		}
		hosts[host] = field
	}
	for j := range a.Domains {
		d := &a.Domains[j]
		dp := fmt.Sprintf("%s.domains[%d]", path, j)
		if !checkAppDomain(e, dp+".name", d.Name) {
			continue
		}
		if cluster != nil && d.Name == wildcardLabel+"."+cluster.Domain {
			e.add(dp+".name", "%q is the cluster's own wildcard: it would take the host name of every app in cluster %q", d.Name, cluster.Name)
			continue
		}
		claim(d.Name, dp+".name")
		if d.RedirectWww {
			if strings.HasPrefix(d.Name, wildcardLabel+".") {
				e.add(dp+".redirectWww", "a wildcard name (%q) has no single www name to redirect", d.Name)
			} else {
				claim("www."+d.Name, dp+".redirectWww")
			}
		}
		if d.RedirectPriority != nil {
			if !d.RedirectWww {
				e.add(dp+".redirectPriority", "is only used with redirectWww: true")
			} else if *d.RedirectPriority < 1 || *d.RedirectPriority > contract.MaxRulePriority {
				e.add(dp+".redirectPriority", "%d must be between 1 and %d", *d.RedirectPriority, contract.MaxRulePriority)
			}
		}
		if z := d.HostedZone; z != nil {
			switch {
			case z.Name == "":
				e.add(dp+".hostedZone.name", "is required: the name of the public hosted zone that holds %q", d.Name)
			case !checkDomain(e, dp+".hostedZone.name", z.zoneName(), false):
			case !inZone(d.Name, z.zoneName()):
				e.add(dp+".hostedZone.name", "%q is not in hosted zone %q: the zone must be %s or a parent domain of it", d.Name, z.zoneName(), strings.TrimPrefix(d.Name, wildcardLabel+"."))
			}
			switch {
			case z.ID == "" && z.Name != "":
				e.add(dp+".hostedZone.id", "is required: the ID of hosted zone %q (no lookups are made at synth; it may be left out only for the zone of a cluster of this config)", z.zoneName())
			case z.ID != "" && !zoneIDRE.MatchString(z.ID):
				e.add(dp+".hostedZone.id", "%q must be a Route53 hosted zone ID like Z0123456789ABCDEFGHIJ", z.ID)
			}
		}
	}
	if n := certificateNames(a, cluster); n > contract.ACMDomainNamesPerCertificate {
		e.add(path+".domains", "the app's certificate would hold %d names (domains and their www names), over ACM's default quota of %d per certificate",
			n, contract.ACMDomainNamesPerCertificate)
	}
}

// certificateNames counts the names of the app's certificate.
func certificateNames(a *App, c *Cluster) int {
	n := 0
	for _, d := range a.Domains {
		if coveredByCluster(d.Name, c) {
			continue
		}
		n++
		if d.RedirectWww {
			n++
		}
	}
	return n
}

// checkAppDomain checks a custom domain: a lowercase DNS name of at least two
// labels, whose leftmost label may be the wildcard *.
func checkAppDomain(e *Errors, path, name string) bool {
	labels := strings.Split(name, ".")
	ok := name != "" && len(name) <= 253 && len(labels) >= 2
	for i, l := range labels {
		ok = ok && (labelRE.MatchString(l) || i == 0 && l == wildcardLabel && len(labels) >= 3)
	}
	if !ok {
		if name == "" {
			e.add(path, "is required: a host name like shop.example.com")
		} else {
			e.add(path, "%q must be a lowercase DNS name of at least two labels (letters, digits, inner hyphens), optionally a wildcard *.<name> of at least three; at most 253 characters", name)
		}
	}
	return ok
}

// validateLoadBalancerQuotas checks, for each cluster, what all its apps put
// on the one shared HTTPS listener against the load balancer's quotas:
// certificates (one per app with custom domains outside the cluster
// wildcard) and rules (one per app plus one per www redirect), and that
// no redirect rule takes another rule's priority. The error is at the app
// field that crosses the line.
func (p *Platform) validateLoadBalancerQuotas(e *Errors, clusters map[string]*Cluster) {
	for i := range p.Clusters {
		c := &p.Clusters[i]
		path := fmt.Sprintf("clusters[%d].loadBalancerQuotas", i)
		if c.LoadBalancerQuotas.Certificates < 1 {
			e.add(path+".certificates", "%d must be at least 1 (the default quota is %d)", c.LoadBalancerQuotas.Certificates, contract.ALBCertificatesQuota)
		}
		if c.LoadBalancerQuotas.Rules < 1 {
			e.add(path+".rules", "%d must be at least 1 (the default quota is %d)", c.LoadBalancerQuotas.Rules, contract.ALBRulesQuota)
		}
	}
	type usage struct{ certs, rules int }
	used := map[string]*usage{}
	owner := map[string]string{} // cluster/priority -> what has it
	for i := range p.Apps {
		a := &p.Apps[i]
		if prio := a.rulePriority(); prio > 0 {
			k := a.Cluster + "/" + strconv.Itoa(prio)
			if _, taken := owner[k]; !taken {
				owner[k] = fmt.Sprintf("app %q (apps[%d])", a.Name, i)
			}
		}
	}
	for i := range p.Apps {
		a := &p.Apps[i]
		c := clusters[a.Cluster]
		if c == nil {
			continue
		}
		u := used[c.Name]
		if u == nil {
			u = &usage{}
			used[c.Name] = u
		}
		ci := clusterIndex(p, c.Name)
		path := fmt.Sprintf("apps[%d]", i)
		if needsCertificate(a, c) {
			u.certs++
			if u.certs == c.LoadBalancerQuotas.Certificates+1 {
				e.add(path+".domains", "cluster %q would need %d certificates on its load balancer (one per app with custom domains outside %s), over the quota of %d "+
					"(\"Certificates per Application Load Balancer (excluding default certificates)\"): request an increase in Service Quotas (Elastic Load Balancing) and set clusters[%d].loadBalancerQuotas.certificates, or move apps to a second cluster (docs/config.md, \"Load balancer quotas\")",
					c.Name, u.certs, c.Domain, c.LoadBalancerQuotas.Certificates, ci)
			}
		}
		u.rules++
		if u.rules == c.LoadBalancerQuotas.Rules+1 {
			e.add(path, "cluster %q would need %d listener rules (one per app and one per www redirect), over the quota of %d "+
				"(\"Rules per Application Load Balancer (excluding default rules)\"): request an increase in Service Quotas (Elastic Load Balancing) and set clusters[%d].loadBalancerQuotas.rules, or move apps to a second cluster (docs/config.md, \"Load balancer quotas\")",
				c.Name, u.rules, c.LoadBalancerQuotas.Rules, ci)
		}
		for j, d := range a.Domains {
			if !d.RedirectWww || strings.HasPrefix(d.Name, wildcardLabel+".") {
				continue
			}
			dp := fmt.Sprintf("%s.domains[%d]", path, j)
			u.rules++
			if u.rules == c.LoadBalancerQuotas.Rules+1 {
				e.add(dp+".redirectWww", "cluster %q would need %d listener rules (one per app and one per www redirect), over the quota of %d "+
					"(\"Rules per Application Load Balancer (excluding default rules)\"): request an increase in Service Quotas (Elastic Load Balancing) and set clusters[%d].loadBalancerQuotas.rules, or move apps to a second cluster (docs/config.md, \"Load balancer quotas\")",
					c.Name, u.rules, c.LoadBalancerQuotas.Rules, ci)
			}
			prio, how := contract.RedirectPriority(d.Name), "derived from the name"
			if d.RedirectPriority != nil {
				prio, how = *d.RedirectPriority, "set by redirectPriority"
			}
			k := a.Cluster + "/" + strconv.Itoa(prio)
			if other, taken := owner[k]; taken {
				e.add(dp+".redirectPriority", "the www redirect of %q gets listener rule priority %d (%s), which %s already has in cluster %q: set redirectPriority to an unused value between %d and %d",
					d.Name, prio, how, other, a.Cluster, contract.MinRulePriority, contract.MaxRulePriority)
			} else {
				owner[k] = fmt.Sprintf("the www redirect of %q (%s)", d.Name, dp)
			}
		}
	}
}

// rulePriority is the app's listener rule priority, or 0 when it is invalid.
func (a *App) rulePriority() int {
	if a.Priority != nil {
		if *a.Priority < 1 || *a.Priority > contract.MaxRulePriority {
			return 0
		}
		return *a.Priority
	}
	return contract.RulePriority(a.Name)
}

func clusterIndex(p *Platform, name string) int {
	for i, c := range p.Clusters {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// listenerRule is one rule an app puts on its cluster's HTTPS listener.
type listenerRule struct {
	priority int
	hosts    []string
	paths    []string // the field of each host
	what     string   // "apps[i]" or the redirect's field
}

// clusterRules lists the rules the apps put on cluster c's listener.
func (p *Platform) clusterRules(c *Cluster) []listenerRule {
	var rules []listenerRule
	for i := range p.Apps {
		a := &p.Apps[i]
		if a.Cluster != c.Name || a.rulePriority() == 0 {
			continue
		}
		path := fmt.Sprintf("apps[%d]", i)
		r := listenerRule{priority: a.rulePriority(), what: path,
			hosts: []string{a.Name + "." + c.Domain}, paths: []string{path + " (its default host name)"}}
		for j, d := range a.Domains {
			dp := fmt.Sprintf("%s.domains[%d]", path, j)
			r.hosts = append(r.hosts, d.Name)
			r.paths = append(r.paths, dp+".name")
			if d.RedirectWww && !strings.HasPrefix(d.Name, wildcardLabel+".") {
				prio := contract.RedirectPriority(d.Name)
				if d.RedirectPriority != nil {
					prio = *d.RedirectPriority
				}
				rules = append(rules, listenerRule{priority: prio, hosts: []string{"www." + d.Name}, paths: []string{dp + ".redirectWww"}, what: "the www redirect of " + dp})
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// wildcardMatches reports whether the load balancer's host condition w
// (*.<suffix>) matches host h: ALB's * matches any characters, dots
// included, so *.example.com also matches a.b.example.com.
func wildcardMatches(w, h string) bool {
	suffix, ok := strings.CutPrefix(w, wildcardLabel)
	return ok && h != w && strings.HasSuffix(h, suffix)
}

// validateWildcards reports a wildcard domain that would take another
// rule's host name: the load balancer evaluates rules from the lowest
// priority, so a wildcard rule with a lower priority than the rule of a
// host it matches takes that host's requests (another app's default host
// name, say). The error is at the wildcard, once per wildcard.
func (p *Platform) validateWildcards(e *Errors) {
	for ci := range p.Clusters {
		rules := p.clusterRules(&p.Clusters[ci])
		for x, r1 := range rules {
			for k, w := range r1.hosts {
				if !strings.HasPrefix(w, wildcardLabel+".") {
					continue
				}
				func() {
					for y, r2 := range rules {
						if x == y || r2.priority <= r1.priority {
							continue
						}
						for m, h := range r2.hosts {
							if wildcardMatches(w, h) {
								e.add(r1.paths[k], "%q also matches %q of %s; the load balancer evaluates rules lowest priority first and this rule (%d) comes before that one (%d), so it would take those requests: give %s a priority below %d, or narrow the wildcard",
									w, h, r2.paths[m], r1.priority, r2.priority, r2.what, r1.priority)
								return
							}
						}
					}
				}()
			}
		}
	}
}
