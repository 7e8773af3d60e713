package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/contract"
)

// zoneDomain is a domain mapping in the hosted zone of the minimal config's
// cluster.
func zoneDomain(name string, extra ...any) map[string]any {
	d := map[string]any{"name": name, "hostedZone": map[string]any{"name": "example.com"}}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i].(string)] = extra[i+1]
	}
	return d
}

// withApps replaces the apps of m with n apps app0..app<n-1> on cluster main,
// each given the domains dom(i) returns.
func withApps(m map[string]any, n int, dom func(i int) []any) {
	apps := make([]any, n)
	for i := range apps {
		apps[i] = map[string]any{
			"name": fmt.Sprintf("app%d", i), "cluster": "main",
			"repository":           map[string]any{"url": "https://github.com/example/api.git"},
			"managementExternalId": "ext-123",
			"domains":              dom(i),
			"priority":             contract.MinRulePriority + i,
		}
	}
	m["apps"] = apps
}

func TestDomainRules(t *testing.T) {
	cases := []struct {
		name      string
		edit      func(m map[string]any)
		path      string
		fragments []string
	}{
		{"outside the zone", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{zoneDomain("shop.example.org")} },
			"apps[0].domains[0].hostedZone.name", []string{`"shop.example.org" is not in hosted zone "example.com"`}},
		{"suffix is not a parent", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{zoneDomain("myexample.com")} },
			"apps[0].domains[0].hostedZone.name", []string{`"myexample.com" is not in hosted zone "example.com"`}},
		{"zone id needed", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{map[string]any{"name": "shop.example.org", "hostedZone": map[string]any{"name": "example.org"}}}
		}, "apps[0].domains[0].hostedZone.id", []string{`is required: the ID of hosted zone "example.org"`}},
		{"zone id shape", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{map[string]any{"name": "shop.example.org", "hostedZone": map[string]any{"id": "zone1", "name": "example.org"}}}
		}, "apps[0].domains[0].hostedZone.id", []string{`"zone1" must be a Route53 hosted zone ID`}},
		{"zone name needed", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{map[string]any{"name": "shop.example.org", "hostedZone": map[string]any{"id": "Z0123456789XYZ"}}}
		}, "apps[0].domains[0].hostedZone.name", []string{"is required"}},
		{"uppercase", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{"Shop.example.com"} }, "apps[0].domains[0].name", []string{"must be a lowercase DNS name"}},
		{"wildcard apex", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{"*.com"} }, "apps[0].domains[0].name", []string{"wildcard *.<name> of at least three"}},
		{"inner wildcard", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{"a.*.example.com"} }, "apps[0].domains[0].name", []string{"must be a lowercase DNS name"}},
		{"missing name", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{map[string]any{"redirectWww": true}} }, "apps[0].domains[0].name", []string{"is required"}},
		{"cluster wildcard", func(m map[string]any) { at(m, "apps", 0)["domains"] = []any{"*.apps.example.com"} }, "apps[0].domains[0].name", []string{"the cluster's own wildcard"}},
		{"duplicate across apps", func(m map[string]any) {
			withApps(m, 2, func(int) []any { return []any{"shop.example.com"} })
		}, "apps[1].domains[0].name", []string{`"shop.example.com" is already routed to apps[0].domains[0].name`}},
		{"www taken by another app", func(m map[string]any) {
			withApps(m, 2, func(i int) []any {
				if i == 0 {
					return []any{"www.example.com"}
				}
				return []any{zoneDomain("example.com", "redirectWww", true)}
			})
		}, "apps[1].domains[0].redirectWww", []string{`"www.example.com" is already routed to apps[0].domains[0].name`}},
		{"wildcard redirect", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{zoneDomain("*.example.com", "redirectWww", true)}
		},
			"apps[0].domains[0].redirectWww", []string{"a wildcard name"}},
		{"redirect priority without redirect", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{zoneDomain("example.com", "redirectPriority", 7)}
		},
			"apps[0].domains[0].redirectPriority", []string{"only used with redirectWww"}},
		{"redirect priority range", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{zoneDomain("example.com", "redirectWww", true, "redirectPriority", 50001)}
		}, "apps[0].domains[0].redirectPriority", []string{"50001 must be between 1 and 50000"}},
		{"redirect priority collides", func(m map[string]any) {
			at(m, "apps", 0)["domains"] = []any{zoneDomain("example.com", "redirectWww", true, "redirectPriority", contract.RulePriority("api"))}
		}, "apps[0].domains[0].redirectPriority", []string{`which app "api" (apps[0]) already has in cluster "main"`}},
		{"too many certificates", func(m map[string]any) {
			withApps(m, contract.ALBCertificatesQuota+1, func(i int) []any { return []any{fmt.Sprintf("shop%d.example.net", i)} })
		}, "apps[25].domains", []string{`cluster "main" would need 26 certificates`, "over the quota of 25", "clusters[0].loadBalancerQuotas.certificates", "second cluster"}},
		{"too many rules", func(m map[string]any) {
			at(m, "clusters", 0)["loadBalancerQuotas"] = map[string]any{"certificates": 200}
			// app0 has one rule, app k>0 two (2k and 2k+1): the 101st is
			// the redirect of app50.
			withApps(m, 60, func(i int) []any {
				if i == 0 {
					return nil
				}
				return []any{zoneDomain(fmt.Sprintf("s%d.example.com", i), "redirectWww", true)}
			})
		}, "apps[50].domains[0].redirectWww", []string{`cluster "main" would need 101 listener rules`, "over the quota of 100", "clusters[0].loadBalancerQuotas.rules"}},
		{"too many apps for the rules", func(m map[string]any) {
			withApps(m, 101, func(int) []any { return nil })
		}, "apps[100]", []string{"would need 101 listener rules"}},
		{"wildcard takes another app's host", func(m map[string]any) {
			// app0 (priority 1000) has *.example.com, which also matches
			// app1's default host app1.apps.example.com (priority 1001).
			withApps(m, 2, func(i int) []any {
				if i == 0 {
					return []any{zoneDomain("*.example.com")}
				}
				return nil
			})
		}, "apps[0].domains[0].name", []string{`"*.example.com" also matches "app1.apps.example.com" of apps[1] (its default host name)`, "give apps[1] a priority below 1000"}},
		{"wildcard takes its own www redirect", func(m map[string]any) {
			at(m, "apps", 0)["priority"] = 1000
			at(m, "apps", 0)["domains"] = []any{zoneDomain("*.example.com"), zoneDomain("example.com", "redirectWww", true, "redirectPriority", 2000)}
		}, "apps[0].domains[0].name", []string{`also matches "www.example.com" of apps[0].domains[1].redirectWww`}},
		{"quota below one", func(m map[string]any) { at(m, "clusters", 0)["loadBalancerQuotas"] = map[string]any{"rules": -1} },
			"clusters[0].loadBalancerQuotas.rules", []string{"-1 must be at least 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, parseMinimal(t, c.edit), c.path, c.fragments...)
		})
	}
}

func TestDomainForms(t *testing.T) {
	doc := strings.Replace(minimal, "    managementExternalId: api-123\n", `    managementExternalId: api-123
    domains:
      - api.example.net
      - name: example.com
        hostedZone: {name: example.com}
        redirectWww: true
      - name: "*.shop.example.org"
        hostedZone: {id: Z0999999999ORG, name: example.org}
      - extra.apps.example.com
`, 1)
	p, err := Parse([]byte(doc), false)
	if err != nil {
		t.Fatal(err)
	}
	ds := p.Apps[0].Domains
	if len(ds) != 4 || ds[0].Name != "api.example.net" || ds[0].HostedZone != nil {
		t.Fatalf("plain string form: %+v", ds)
	}
	if ds[1].HostedZone == nil || ds[1].HostedZone.ID != "Z0123456789ABC" || !ds[1].RedirectWww {
		t.Errorf("zone named like the cluster's takes its ID: %+v", ds[1].HostedZone)
	}
	if ds[2].HostedZone.ID != "Z0999999999ORG" {
		t.Errorf("explicit zone ID lost: %+v", ds[2].HostedZone)
	}
	// api.example.net, example.com + www and *.shop.example.org need the
	// certificate; extra.apps.example.com is the cluster wildcard's.
	if n := certificateNames(&p.Apps[0], &p.Clusters[0]); n != 4 {
		t.Errorf("certificate names %d, want 4", n)
	}
	if _, err := Parse([]byte(strings.Replace(doc, "      - api.example.net\n", "      - [api.example.net]\n", 1)), false); err == nil || !strings.Contains(err.Error(), "apps[0].domains[0]") {
		t.Errorf("a list as a domain: %v", err)
	}
	if _, err := Parse([]byte(strings.Replace(doc, "redirectWww: true", "redirectWww: true\n        ttl: 60", 1)), false); err == nil || !strings.Contains(err.Error(), "apps[0].domains[1].ttl: unknown field") {
		t.Errorf("unknown domain field: %v", err)
	}
}

// TestWildcardAfterTheNamesItMatches: a wildcard is fine when every rule it
// would shadow comes first.
func TestWildcardAfterTheNamesItMatches(t *testing.T) {
	err := parseMinimal(t, func(m map[string]any) {
		withApps(m, 2, func(i int) []any {
			if i == 1 {
				return []any{zoneDomain("*.example.com")}
			}
			return []any{zoneDomain("example.com", "redirectWww", true, "redirectPriority", 5)}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDomainQuotaRaised: a raised quota in the config lets more apps in.
func TestDomainQuotaRaised(t *testing.T) {
	err := parseMinimal(t, func(m map[string]any) {
		at(m, "clusters", 0)["loadBalancerQuotas"] = map[string]any{"certificates": 30}
		withApps(m, 26, func(i int) []any { return []any{fmt.Sprintf("shop%d.example.net", i)} })
	})
	if err != nil {
		t.Fatal(err)
	}
	// Names under the cluster domain need no certificate of their own.
	err = parseMinimal(t, func(m map[string]any) {
		withApps(m, 30, func(i int) []any { return []any{fmt.Sprintf("alias%d.apps.example.com", i)} })
	})
	if err != nil {
		t.Fatal(err)
	}
}
