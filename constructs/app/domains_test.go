package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

const zoneID = "Z0123456789ZONEEXAMPLE"

// domainsFixture synthesizes one app with every kind of custom domain on the
// stand-in cluster, and one on a cluster imported by name.
type domainsFixture struct {
	stack, importedStack awscdk.Stack
	tpl, importedTpl     map[string]interface{}
	app                  *app.App
	nag                  []nagFinding
}

// nagFinding is one cdk-nag AwsSolutions error or warning on a construct.
type nagFinding struct{ path, data string }

// nagFindings walks the synthesized construct tree of stack for the
// AwsSolutions errors and warnings cdk-nag recorded as metadata.
func nagFindings(stack awscdk.Stack) []nagFinding {
	var out []nagFinding
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		md := c.Node().Metadata()
		if md == nil {
			continue
		}
		for _, e := range *md {
			typ := deref(e.Type)
			data := fmt.Sprint(e.Data)
			if (typ == "aws:cdk:error" || typ == "aws:cdk:warning") && strings.HasPrefix(data, "AwsSolutions-") {
				out = append(out, nagFinding{*c.Node().Path(), data})
			}
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// domainPath reports whether a construct path belongs to what
// AppProps.Domains created (construct IDs of constructs/app/domains.go).
func domainPath(path string) bool {
	for _, id := range []string{"/App/Certificate", "/App/ListenerCertificate", "/App/Redirect ", "/App/Record ", "/App/Dns ", "/App/CertificateArn"} {
		if strings.Contains(path, id) {
			return true
		}
	}
	return false
}

var domFix *domainsFixture

func getDomainsFixture(t *testing.T) *domainsFixture {
	t.Helper()
	if domFix != nil {
		return domFix
	}
	a := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]interface{}{}})
	for k, v := range apptest.AppContext() {
		a.Node().SetContext(jsii.String(k), v)
	}
	cdktest.AddNag(a)
	env := apptest.Env()
	clusterStack := awscdk.NewStack(a, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: env})
	c := apptest.NewCluster(clusterStack, "Cluster")
	f := &domainsFixture{}
	f.stack = awscdk.NewStack(a, jsii.String("wharf-app-shop"), &awscdk.StackProps{Env: env})
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(f.stack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(zoneID), ZoneName: jsii.String("example.com"),
	})
	p := validProps()
	p.Name = jsii.String("shop")
	p.Cluster = c
	p.Domains = []*app.Domain{
		{Name: jsii.String("shop.example.com"), HostedZone: zone},
		{Name: jsii.String("example.com"), HostedZone: zone, RedirectWww: jsii.Bool(true)},
		{Name: jsii.String("*.tenants.example.org")},
		{Name: jsii.String("extra.apps.example.com")}, // under the cluster's wildcard
	}
	f.app = app.NewApp(f.stack, "App", p)

	f.importedStack = awscdk.NewStack(a, jsii.String("wharf-app-blog"), &awscdk.StackProps{Env: env})
	ic := cluster.FromName(f.importedStack, "Cluster", &cluster.FromNameProps{
		Name: jsii.String("main"), AvailabilityZones: apptest.AvailabilityZones, Domain: jsii.String(apptest.Domain),
	})
	izone := awsroute53.HostedZone_FromHostedZoneAttributes(f.importedStack, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(zoneID), ZoneName: jsii.String("example.com"),
	})
	ip := validProps()
	ip.Name = jsii.String("blog")
	ip.Cluster = ic
	ip.Domains = []*app.Domain{{Name: jsii.String("blog.example.com"), HostedZone: izone, RedirectWww: jsii.Bool(true), RedirectPriority: ptr(7)}}
	app.NewApp(f.importedStack, "App", ip)

	f.tpl = toMap(cdktest.Template(t, f.stack))
	f.importedTpl = toMap(cdktest.Template(t, f.importedStack))
	// cdk-nag findings are read from the construct tree now that the
	// stacks are synthesized.
	f.nag = append(nagFindings(f.stack), nagFindings(f.importedStack)...)
	domFix = f
	return f
}

// ofType returns the resources of type typ in tpl.
func ofType(tpl map[string]interface{}, typ string) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	for id, r := range tpl["Resources"].(map[string]interface{}) {
		if m := r.(map[string]interface{}); m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

func only(t *testing.T, tpl map[string]interface{}, typ string) (string, map[string]interface{}) {
	t.Helper()
	rs := ofType(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want one %s, found %d", typ, len(rs))
	}
	for id, r := range rs {
		p, _ := r["Properties"].(map[string]interface{})
		return id, p
	}
	return "", nil
}

func jsonOf(v interface{}) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func strs(v interface{}) []string {
	var out []string
	for _, x := range v.([]interface{}) {
		out = append(out, x.(string))
	}
	return out
}

// TestDomainsNagClean: cdk-nag AwsSolutions reports nothing on the
// resources the custom domains add (no suppression is needed or made). The
// rest of the app is TestNagClean's.
func TestDomainsNagClean(t *testing.T) {
	f := getDomainsFixture(t)
	seen := 0
	for _, c := range *f.stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if domainPath(*c.Node().Path()) {
			seen++
		}
	}
	if seen < 6 {
		t.Fatalf("%d domain constructs found: the path filter is broken", seen)
	}
	for _, n := range f.nag {
		if domainPath(n.path) {
			t.Errorf("%s: %s", n.path, n.data)
		} else {
			t.Logf("outside the domain resources (TestNagClean's): %s: %s", n.path, n.data)
		}
	}
}

func TestDomainCertificateHoldsEveryNameOutsideTheClusterWildcard(t *testing.T) {
	f := getDomainsFixture(t)
	_, cert := only(t, f.tpl, "AWS::CertificateManager::Certificate")
	if cert["ValidationMethod"] != "DNS" {
		t.Errorf("ValidationMethod %v, want DNS", cert["ValidationMethod"])
	}
	names := append([]string{cert["DomainName"].(string)}, strs(cert["SubjectAlternativeNames"])...)
	want := []string{"shop.example.com", "example.com", "www.example.com", "*.tenants.example.org"}
	if !slices.Equal(names, want) {
		t.Errorf("certificate names %v, want %v (extra.apps.example.com is the cluster wildcard's)", names, want)
	}
	// Validation records in the zone for the names that have one; none
	// for the name without a zone (ACM waits for the user's CNAME).
	got := map[string]interface{}{}
	for _, o := range cert["DomainValidationOptions"].([]interface{}) {
		m := o.(map[string]interface{})
		got[m["DomainName"].(string)] = m["HostedZoneId"]
	}
	for _, n := range want[:3] {
		if got[n] != zoneID {
			t.Errorf("validation of %s: hosted zone %v, want %s", n, got[n], zoneID)
		}
	}
	if _, ok := got["*.tenants.example.org"]; ok {
		t.Error("a validation option for *.tenants.example.org, which has no zone")
	}
	if len(got) != 3 {
		t.Errorf("validation options %v, want 3", got)
	}
}

func TestDomainCertificateIsAddedToTheSharedListener(t *testing.T) {
	f := getDomainsFixture(t)
	certID, _ := only(t, f.tpl, "AWS::CertificateManager::Certificate")
	_, lc := only(t, f.tpl, "AWS::ElasticLoadBalancingV2::ListenerCertificate")
	if s := jsonOf(lc["Certificates"]); s != `[{"CertificateArn":{"Ref":"`+certID+`"}}]` {
		t.Errorf("listener certificates %s, want the app's certificate", s)
	}
	if s := jsonOf(lc["ListenerArn"]); !strings.Contains(s, "HttpsListener") && !strings.Contains(s, "Https") {
		t.Errorf("listener %s, want the cluster's HTTPS listener", s)
	}
}

func TestDomainRulesRouteAndRedirect(t *testing.T) {
	f := getDomainsFixture(t)
	var forward, redirect map[string]interface{}
	for _, r := range ofType(f.tpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		p := r["Properties"].(map[string]interface{})
		action := p["Actions"].([]interface{})[0].(map[string]interface{})
		switch action["Type"] {
		case "forward":
			forward = p
		case "redirect":
			redirect = p
		}
	}
	if forward == nil || redirect == nil {
		t.Fatalf("want a forward and a redirect rule; forward %v redirect %v", forward != nil, redirect != nil)
	}
	hosts := func(p map[string]interface{}) []string {
		c := p["Conditions"].([]interface{})[0].(map[string]interface{})
		if c["Field"] != "host-header" {
			t.Fatalf("condition %v, want host-header", c)
		}
		return strs(c["HostHeaderConfig"].(map[string]interface{})["Values"])
	}
	want := []string{"shop.apps.example.com", "shop.example.com", "example.com", "*.tenants.example.org", "extra.apps.example.com"}
	if got := hosts(forward); !slices.Equal(got, want) {
		t.Errorf("forward rule hosts %v, want %v", got, want)
	}
	if len(want) > contract.ALBConditionValuesPerRule {
		t.Errorf("%d host names in one rule, over the quota of %d", len(want), contract.ALBConditionValuesPerRule)
	}
	if got := hosts(redirect); !slices.Equal(got, []string{"www.example.com"}) {
		t.Errorf("redirect rule hosts %v, want [www.example.com]", got)
	}
	if p := int(redirect["Priority"].(float64)); p != contract.RedirectPriority("example.com") {
		t.Errorf("redirect priority %d, want %d", p, contract.RedirectPriority("example.com"))
	}
	rc := redirect["Actions"].([]interface{})[0].(map[string]interface{})["RedirectConfig"].(map[string]interface{})
	if rc["Host"] != "example.com" || rc["Protocol"] != "HTTPS" || rc["Port"] != "443" || rc["StatusCode"] != "HTTP_301" {
		t.Errorf("redirect %v, want a permanent redirect to https://example.com:443", rc)
	}
	if _, ok := rc["Path"]; ok && rc["Path"] != "/#{path}" {
		t.Errorf("redirect path %v, want the request's", rc["Path"])
	}
}

func TestDomainAliasRecordsOnlyInGivenZones(t *testing.T) {
	f := getDomainsFixture(t)
	got := map[string]map[string]interface{}{}
	for _, r := range ofType(f.tpl, "AWS::Route53::RecordSet") {
		p := r["Properties"].(map[string]interface{})
		got[p["Name"].(string)] = p
	}
	want := []string{"example.com.", "shop.example.com.", "www.example.com."}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Fatalf("records %v, want %v", names, want)
	}
	for n, p := range got {
		if p["Type"] != "A" || p["HostedZoneId"] != zoneID {
			t.Errorf("%s: type %v in zone %v, want A in %s", n, p["Type"], p["HostedZoneId"], zoneID)
		}
		alias := jsonOf(p["AliasTarget"])
		if !strings.Contains(alias, "DNSName") || !strings.Contains(alias, "CanonicalHostedZoneID") {
			t.Errorf("%s: alias target %s, want the load balancer's DNS name and zone", n, alias)
		}
	}
}

func TestDomainOutputsForNamesWithoutZone(t *testing.T) {
	f := getDomainsFixture(t)
	outs, _ := f.tpl["Outputs"].(map[string]interface{})
	var dns, certArn []string
	for id, o := range outs {
		m := o.(map[string]interface{})
		d, _ := m["Description"].(string)
		switch {
		case strings.Contains(d, "CNAME record"):
			dns = append(dns, id+": "+d)
			if !strings.Contains(jsonOf(m["Value"]), "DNSName") {
				t.Errorf("output %s value %s, want the load balancer's DNS name", id, jsonOf(m["Value"]))
			}
		case strings.Contains(d, "describe-certificate"):
			certArn = append(certArn, id)
		}
	}
	if len(dns) != 1 || !strings.Contains(dns[0], "*.tenants.example.org") {
		t.Errorf("DNS outputs %v, want one for *.tenants.example.org", dns)
	}
	if len(certArn) != 1 {
		t.Errorf("certificate outputs %v, want one", certArn)
	}
}

func TestDomainsOnAClusterImportedByName(t *testing.T) {
	f := getDomainsFixture(t)
	_, cert := only(t, f.importedTpl, "AWS::CertificateManager::Certificate")
	if names := append([]string{cert["DomainName"].(string)}, strs(cert["SubjectAlternativeNames"])...); !slices.Equal(names, []string{"blog.example.com", "www.blog.example.com"}) {
		t.Errorf("certificate names %v", names)
	}
	only(t, f.importedTpl, "AWS::ElasticLoadBalancingV2::ListenerCertificate")
	recs := ofType(f.importedTpl, "AWS::Route53::RecordSet")
	if len(recs) != 2 {
		t.Fatalf("%d records, want blog and www.blog", len(recs))
	}
	for _, r := range recs {
		alias := jsonOf(r["Properties"].(map[string]interface{})["AliasTarget"])
		for _, param := range []string{cluster.ParamLoadBalancerDNSName, cluster.ParamLoadBalancerHostedZoneID} {
			if !strings.Contains(strings.ToLower(alias), strings.ReplaceAll(param, "-", "")) {
				t.Errorf("alias %s does not read the cluster parameter %s", alias, param)
			}
		}
	}
	var prios []int
	for _, r := range ofType(f.importedTpl, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		prios = append(prios, int(r["Properties"].(map[string]interface{})["Priority"].(float64)))
	}
	if !slices.Contains(prios, 7) {
		t.Errorf("rule priorities %v, want the set redirect priority 7", prios)
	}
	// The cluster domain is a literal: the default host name is too.
	if s := jsonOf(ofType(f.importedTpl, "AWS::ElasticLoadBalancingV2::ListenerRule")); !strings.Contains(s, `"blog.apps.example.com"`) {
		t.Error("default host name is not the literal blog.apps.example.com")
	}
}

func TestValidateDomainsNamesTheField(t *testing.T) {
	a := awscdk.NewApp(nil)
	st := awscdk.NewStack(a, jsii.String("zones"), nil)
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(st, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{
		HostedZoneId: jsii.String(zoneID), ZoneName: jsii.String("example.com"),
	})
	idOnly := awsroute53.HostedZone_FromHostedZoneId(st, jsii.String("IDOnly"), jsii.String(zoneID))
	d := func(name string) *app.Domain { return &app.Domain{Name: jsii.String(name)} }
	cases := map[string]struct {
		domains []*app.Domain
		want    string
	}{
		"outside zone":       {[]*app.Domain{{Name: jsii.String("shop.example.org"), HostedZone: zone}}, `domains[0].hostedZone: "shop.example.org" is not in hosted zone "example.com"`},
		"suffix is not zone": {[]*app.Domain{{Name: jsii.String("badexample.com"), HostedZone: zone}}, `domains[0].hostedZone: "badexample.com" is not in hosted zone`},
		"zone without name":  {[]*app.Domain{{Name: jsii.String("shop.example.com"), HostedZone: idOnly}}, "domains[0].hostedZone: the zone has no name"},
		"five domains":       {app.DomainNames("a.io", "b.io", "c.io", "d.io", "e.io"), "domains: 5 given, at most 4"},
		"uppercase":          {app.DomainNames("Shop.io"), "domains[0].name"},
		"one label":          {app.DomainNames("localhost"), "domains[0].name"},
		"inner wildcard":     {app.DomainNames("a.*.io"), "domains[0].name"},
		"nil name":           {[]*app.Domain{{}}, "domains[0].name: required"},
		"duplicate":          {app.DomainNames("a.io", "a.io"), `domains[1].name: "a.io" is listed twice (also domains[0].name)`},
		"www clash":          {[]*app.Domain{{Name: jsii.String("a.io"), RedirectWww: jsii.Bool(true)}, d("www.a.io")}, `domains[1].name: "www.a.io" is listed twice (also domains[0].redirectWww)`},
		"wildcard redirect":  {[]*app.Domain{{Name: jsii.String("*.a.io"), RedirectWww: jsii.Bool(true)}}, "domains[0].redirectWww: a wildcard name"},
		"cluster wildcard":   {app.DomainNames("*.apps.example.com"), "domains[0].name \"*.apps.example.com\": is the cluster's own wildcard"},
		"default host":       {app.DomainNames("api.apps.example.com"), "is the app's default host name"},
		"redirect priority":  {[]*app.Domain{{Name: jsii.String("a.io"), RedirectWww: jsii.Bool(true), RedirectPriority: ptr(50001)}}, "domains[0].redirectPriority 50001"},
		"priority no www":    {[]*app.Domain{{Name: jsii.String("a.io"), RedirectPriority: ptr(5)}}, "domains[0].redirectPriority: only with redirectWww"},
		"wildcard before own redirect": {[]*app.Domain{{Name: jsii.String("*.a.io")}, {Name: jsii.String("a.io"), RedirectWww: jsii.Bool(true), RedirectPriority: ptr(50000)}},
			`domains[0].name "*.a.io": also matches www name "www.a.io" of domains[1]`},
		"priority is the app": {[]*app.Domain{{Name: jsii.String("a.io"), RedirectWww: jsii.Bool(true), RedirectPriority: ptr(app.RulePriority("api"))}}, "is the app's own rule priority"},
	}
	for name, c := range cases {
		p := validProps()
		p.Domains = c.domains
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
	}
	p := validProps()
	p.Domains = []*app.Domain{
		{Name: jsii.String("example.com"), HostedZone: zone, RedirectWww: jsii.Bool(true)},
		{Name: jsii.String("*.shop.example.com"), HostedZone: zone},
		d("other.example.net"), d("x.apps.example.com"),
	}
	if err := p.Validate(); err != nil {
		t.Errorf("valid domains rejected: %v", err)
	}
	// A wildcard after its own redirect rule is fine.
	p.Domains = []*app.Domain{{Name: jsii.String("*.b.io")}, {Name: jsii.String("b.io"), RedirectWww: jsii.Bool(true), RedirectPriority: ptr(5)}}
	if err := p.Validate(); err != nil {
		t.Errorf("wildcard after its redirect rejected: %v", err)
	}
}

// TestDomainsGiveTheAppsRolesNothing: a compromised container or a hostile
// user of the app gets no permission that could add a host name, swap a
// certificate or write a DNS record: custom domains are CloudFormation's
// work at deploy time, never the app's roles'. Every statement of the
// domain-heavy stack is checked, and the stack has no more roles or policies
// than the same app without domains.
func TestDomainsGiveTheAppsRolesNothing(t *testing.T) {
	f := getDomainsFixture(t)
	sts := apptest.Statements(f.tpl)
	if len(sts) == 0 {
		t.Fatal("no statements found: the walk is broken")
	}
	for _, st := range sts {
		for _, a := range st.Actions {
			l := strings.ToLower(a)
			for _, svc := range []string{"acm:", "route53:", "elasticloadbalancing:", "*"} {
				if strings.HasPrefix(l, svc) {
					t.Errorf("%s grants %s", st.Where, a)
				}
			}
		}
	}
	for _, typ := range []string{"AWS::IAM::Role", "AWS::Lambda::Function", "AWS::CloudFormation::CustomResource", "AWS::EC2::SecurityGroup"} {
		with := len(ofType(f.tpl, typ))
		without := len(ofType(fix0(t), typ))
		if with != without {
			t.Errorf("%s: %d with domains, %d without: domains must add none", typ, with, without)
		}
	}
}

// fix0 is the template of the same app (name, cluster, props) whose only
// domain is covered by the cluster's wildcard: nothing is created for it.
func fix0(t *testing.T) map[string]interface{} {
	t.Helper()
	if plainTpl != nil {
		return plainTpl
	}
	a := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]interface{}{}})
	for k, v := range apptest.AppContext() {
		a.Node().SetContext(jsii.String(k), v)
	}
	env := apptest.Env()
	c := apptest.NewCluster(awscdk.NewStack(a, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: env}), "Cluster")
	st := awscdk.NewStack(a, jsii.String("wharf-app-shop"), &awscdk.StackProps{Env: env})
	p := validProps()
	p.Name = jsii.String("shop")
	p.Cluster = c
	p.Domains = app.DomainNames("alias.apps.example.com")
	app.NewApp(st, "App", p)
	plainTpl = toMap(cdktest.Template(t, st))
	return plainTpl
}

var plainTpl map[string]interface{}

// TestDomainUnderTheClusterWildcardNeedsNothing: a name one label under the
// cluster domain is routed by the rule alone; the cluster's wildcard
// certificate and record serve it.
func TestDomainUnderTheClusterWildcardNeedsNothing(t *testing.T) {
	tpl := fix0(t)
	for _, typ := range []string{"AWS::CertificateManager::Certificate", "AWS::ElasticLoadBalancingV2::ListenerCertificate", "AWS::Route53::RecordSet"} {
		if n := len(ofType(tpl, typ)); n != 0 {
			t.Errorf("%d %s for a name the cluster wildcard covers", n, typ)
		}
	}
	if outs, _ := tpl["Outputs"].(map[string]interface{}); len(outs) != 0 {
		t.Errorf("outputs %v, want none", outs)
	}
	if s := jsonOf(ofType(tpl, "AWS::ElasticLoadBalancingV2::ListenerRule")); !strings.Contains(s, `"alias.apps.example.com"`) {
		t.Error("the rule does not route alias.apps.example.com")
	}
}
