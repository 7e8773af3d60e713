package assemble_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// updateCost rewrites the generated part of docs/cost.md instead of
// comparing it: go test ./apps/platform/assemble -run TestExamplePlatform/cost -update
var updateCost = flag.Bool("update", false, "rewrite the generated table of docs/cost.md")

// prices is docs/cost-prices.json: a dated price table for one region.
type prices struct {
	Region                  string             `json:"region"`
	Date                    string             `json:"date"`
	HoursPerMonth           float64            `json:"hoursPerMonth"`
	ALBHour                 float64            `json:"albHour"`
	ALBLcuHour              float64            `json:"albLcuHour"`
	ALBLcuAssumed           float64            `json:"albLcuAssumed"`
	PublicIPv4Hour          float64            `json:"publicIpv4Hour"`
	ALBPublicIPv4PerAZ      float64            `json:"albPublicIpv4PerAz"`
	AuroraInstanceHour      map[string]float64 `json:"auroraInstanceHour"`
	InterfaceEndpointAZHour float64            `json:"interfaceEndpointAzHour"`
	KMSKeyMonth             float64            `json:"kmsKeyMonth"`
	NATGatewayHour          float64            `json:"natGatewayHour"`
	FargateVCPUHour         float64            `json:"fargateVcpuHour"`
	FargateGBHour           float64            `json:"fargateGbHour"`
	CodeBuildMinute         map[string]float64 `json:"codebuildMinute"`
	// ElastiCacheNodeHour is the on-demand price of one node by engine
	// (valkey, redis) and node type.
	ElastiCacheNodeHour     map[string]map[string]float64 `json:"elasticacheNodeHour"`
	ACMPublicCertMonth      float64                       `json:"acmPublicCertificateMonth"`
	Route53AliasRecordMonth float64                       `json:"route53AliasRecordMonth"`
	Route53QueryMillion     float64                       `json:"route53StandardQueryPerMillion"`
	Route53HostedZoneMonth  float64                       `json:"route53HostedZoneMonth"`
}

// costLine is one priced resource of a stack.
type costLine struct {
	Stack, Item string
	Count       int
	Monthly     float64
}

type cfnTemplate struct {
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
}

// fixedCosts prices the resources of one template that bill by the hour or
// month whether or not anything runs. Unknown instance classes are errors,
// so a new class cannot be priced at zero.
func fixedCosts(stack string, tpl cfnTemplate, p prices) ([]costLine, error) {
	h := p.HoursPerMonth
	var lines []costLine
	ids := make([]string, 0, len(tpl.Resources))
	for id := range tpl.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := tpl.Resources[id]
		switch r.Type {
		case "AWS::ElasticLoadBalancingV2::LoadBalancer":
			azs := len(list(r.Properties["Subnets"])) + len(list(r.Properties["SubnetMappings"]))
			lines = append(lines, costLine{stack, fmt.Sprintf("load balancer (%d LCU assumed)", int(p.ALBLcuAssumed)), 1, h * (p.ALBHour + p.ALBLcuAssumed*p.ALBLcuHour)})
			if r.Properties["Scheme"] != "internal" {
				lines = append(lines, costLine{stack, "load balancer public IPv4 addresses (one per AZ)", azs, float64(azs) * p.ALBPublicIPv4PerAZ * p.PublicIPv4Hour * h})
			}
		case "AWS::RDS::DBInstance":
			class, _ := r.Properties["DBInstanceClass"].(string)
			price, ok := p.AuroraInstanceHour[class]
			if !ok {
				return nil, fmt.Errorf("%s/%s: no price for instance class %q in docs/cost-prices.json", stack, id, class)
			}
			lines = append(lines, costLine{stack, "Aurora instance " + class, 1, price * h})
		case "AWS::EC2::VPCEndpoint":
			if r.Properties["VpcEndpointType"] == "Interface" {
				n := len(list(r.Properties["SubnetIds"]))
				lines = append(lines, costLine{stack, "interface endpoint (per AZ)", n, float64(n) * p.InterfaceEndpointAZHour * h})
			}
		case "AWS::ElastiCache::ReplicationGroup":
			engine, _ := r.Properties["Engine"].(string)
			node, _ := r.Properties["CacheNodeType"].(string)
			price, ok := p.ElastiCacheNodeHour[engine][node]
			if !ok {
				return nil, fmt.Errorf("%s/%s: no price for ElastiCache %s node %q in docs/cost-prices.json", stack, id, engine, node)
			}
			n, _ := r.Properties["NumCacheClusters"].(float64)
			if n < 1 {
				return nil, fmt.Errorf("%s/%s: NumCacheClusters %v is not a node count", stack, id, r.Properties["NumCacheClusters"])
			}
			lines = append(lines, costLine{stack, "ElastiCache " + engine + " node " + node, int(n), n * price * h})
		case "AWS::KMS::Key":
			lines = append(lines, costLine{stack, "KMS key", 1, p.KMSKeyMonth})
		case "AWS::CertificateManager::Certificate":
			lines = append(lines, costLine{stack, "ACM public certificate", 1, p.ACMPublicCertMonth})
		case "AWS::Route53::RecordSet":
			if r.Properties["AliasTarget"] != nil {
				lines = append(lines, costLine{stack, "Route 53 alias record to the load balancer", 1, p.Route53AliasRecordMonth})
			}
		case "AWS::EC2::NatGateway":
			lines = append(lines, costLine{stack, "NAT gateway and its public IPv4", 1, (p.NATGatewayHour + p.PublicIPv4Hour) * h})
		}
	}
	return merge(lines), nil
}

// merge adds up lines of the same stack and item.
func merge(lines []costLine) []costLine {
	var out []costLine
	for _, l := range lines {
		if n := len(out); n > 0 && out[n-1].Stack == l.Stack && out[n-1].Item == l.Item {
			out[n-1].Count += l.Count
			out[n-1].Monthly += l.Monthly
			continue
		}
		out = append(out, l)
	}
	return out
}

func list(v any) []any { l, _ := v.([]any); return l }

// countType counts the resources of a type across templates.
func countType(tpls map[string]cfnTemplate, typ string) int {
	n := 0
	for _, t := range tpls {
		for _, r := range t.Resources {
			if r.Type == typ {
				n++
			}
		}
	}
	return n
}

// renderCost is the generated part of docs/cost.md.
func renderCost(stacks []string, tpls map[string]cfnTemplate, p prices) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Prices: %s, as of %s (docs/cost-prices.json); %g hours a month.\n\n", p.Region, p.Date, p.HoursPerMonth)
	b.WriteString("| stack | resource | count | USD / month |\n| --- | --- | ---: | ---: |\n")
	total := 0.0
	for _, s := range stacks {
		lines, err := fixedCosts(s, tpls[s], p)
		if err != nil {
			return "", err
		}
		sub := 0.0
		for _, l := range lines {
			fmt.Fprintf(&b, "| %s | %s | %d | %.2f |\n", l.Stack, l.Item, l.Count, l.Monthly)
			sub += l.Monthly
		}
		if len(lines) == 0 {
			fmt.Fprintf(&b, "| %s | (nothing billed by the hour) | 0 | 0.00 |\n", s)
		}
		total += sub
	}
	fmt.Fprintf(&b, "| **total** | fixed monthly cost of the example platform | | **%.2f** |\n\n", total)
	nat := countType(tpls, "AWS::EC2::NatGateway")
	fmt.Fprintf(&b, "NAT gateways in the templates: %d. The same VPC built the CDK-default way (one NAT gateway per AZ, 3 AZs) adds %.2f USD a month before data processing.\n\n",
		nat, 3*(p.NATGatewayHour+p.PublicIPv4Hour)*p.HoursPerMonth)
	task := 0.25*p.FargateVCPUHour + 0.5*p.FargateGBHour
	fmt.Fprintf(&b, "Variable: a Fargate task of 0.25 vCPU and 0.5 GB costs %.4f USD an hour (%.2f a month) plus %.4f an hour (%.2f a month) for its public IPv4 address. ",
		task, task*p.HoursPerMonth, p.PublicIPv4Hour, p.PublicIPv4Hour*p.HoursPerMonth)
	var types []string
	for _, t := range tpls {
		for _, r := range t.Resources {
			if r.Type == "AWS::CodeBuild::Project" {
				if env, ok := r.Properties["Environment"].(map[string]any); ok {
					if ct, ok := env["ComputeType"].(string); ok && !contains(types, ct) {
						types = append(types, ct)
					}
				}
			}
		}
	}
	sort.Strings(types)
	for _, ct := range types {
		price, ok := p.CodeBuildMinute[ct]
		if !ok {
			return "", fmt.Errorf("no CodeBuild price for %s in docs/cost-prices.json", ct)
		}
		fmt.Fprintf(&b, "A build minute on %s costs %.3f USD. ", ct, price)
	}
	fmt.Fprintf(&b, "Custom domains: Route 53 answers queries for an alias record to a load balancer at no charge; other queries (the certificate's validation CNAMEs) cost %.2f USD per million, and a hosted zone you keep costs %.2f USD a month (Wharf creates none). ",
		p.Route53QueryMillion, p.Route53HostedZoneMonth)
	b.WriteString("Flow logs, Container Insights, CloudWatch Logs and load balancer LCUs beyond the assumption bill by volume.\n")
	return b.String(), nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

const costBegin, costEnd = "<!-- cost:begin (generated by TestExamplePlatform/cost) -->\n", "<!-- cost:end -->\n"

// checkCostDoc compares (or with -update rewrites) the generated part of
// docs/cost.md with the cost computed from the synthesized templates.
func checkCostDoc(t *testing.T, dir string, stacks []string, files map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("../../../docs/cost-prices.json")
	if err != nil {
		t.Fatal(err)
	}
	var p prices
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	tpls := map[string]cfnTemplate{}
	for _, s := range stacks {
		b, err := os.ReadFile(filepath.Join(dir, files[s]))
		if err != nil {
			t.Fatal(err)
		}
		var tpl cfnTemplate
		if err := json.Unmarshal(b, &tpl); err != nil {
			t.Fatal(err)
		}
		tpls[s] = tpl
	}
	got, err := renderCost(stacks, tpls, p)
	if err != nil {
		t.Fatal(err)
	}
	docPath := "../../../docs/cost.md"
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, costBegin), strings.Index(s, costEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/cost.md lacks the %q ... %q markers", costBegin, costEnd)
	}
	current := s[i+len(costBegin) : j]
	if current == got {
		return
	}
	if *updateCost {
		if err := os.WriteFile(docPath, []byte(s[:i+len(costBegin)]+got+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/cost.md differs from the cost of the synthesized templates (rerun with -update):\n--- want\n%s--- have\n%s", got, current)
}

// TestFixedCostsPricesTheTemplate: the pricing of a small template, by
// hand: an internet-facing ALB in 3 subnets, a db.t4g.medium writer, a
// one-subnet interface endpoint, a KMS key, a two-node Valkey replication
// group.
func TestFixedCostsPricesTheTemplate(t *testing.T) {
	// The certificate and alias record are free on AWS; priced here so the
	// test sees them counted.
	p := prices{HoursPerMonth: 730, ALBHour: 0.02, ALBLcuHour: 0.01, ALBLcuAssumed: 1, PublicIPv4Hour: 0.005, ALBPublicIPv4PerAZ: 1,
		AuroraInstanceHour: map[string]float64{"db.t4g.medium": 0.1}, InterfaceEndpointAZHour: 0.01, KMSKeyMonth: 1,
		ElastiCacheNodeHour: map[string]map[string]float64{"valkey": {"cache.t4g.micro": 0.02}},
		ACMPublicCertMonth:  0.5, Route53AliasRecordMonth: 0.25}
	var tpl cfnTemplate
	if err := json.Unmarshal([]byte(`{"Resources": {
		"Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Scheme": "internet-facing", "Subnets": ["a", "b", "c"]}},
		"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.t4g.medium"}},
		"Ep": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface", "SubnetIds": ["a"]}},
		"Gw": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
		"Key": {"Type": "AWS::KMS::Key", "Properties": {}},
		"Rg": {"Type": "AWS::ElastiCache::ReplicationGroup", "Properties": {"Engine": "valkey", "CacheNodeType": "cache.t4g.micro", "NumCacheClusters": 2}},
		"Cert": {"Type": "AWS::CertificateManager::Certificate", "Properties": {"DomainName": "shop.example.com"}},
		"Alias": {"Type": "AWS::Route53::RecordSet", "Properties": {"Type": "A", "AliasTarget": {"DNSName": "lb"}}},
		"Cname": {"Type": "AWS::Route53::RecordSet", "Properties": {"Type": "CNAME", "ResourceRecords": ["x"]}}}}`), &tpl); err != nil {
		t.Fatal(err)
	}
	lines, err := fixedCosts("s", tpl, p)
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, l := range lines {
		total += l.Monthly
	}
	// 730*(0.02+0.01) + 3*0.005*730 + 0.1*730 + 0.01*730 + 1 + 2*0.02*730 + 0.5 + 0.25
	// (the CNAME record is not an alias: not a fixed line)
	if want := 21.9 + 10.95 + 73 + 7.3 + 1 + 29.2 + 0.5 + 0.25; total < want-0.001 || total > want+0.001 {
		t.Errorf("total %.3f, want %.3f: %+v", total, want, lines)
	}
	tpl.Resources["Rg"].Properties["Engine"] = "redis"
	if _, err := fixedCosts("s", tpl, p); err == nil || !strings.Contains(err.Error(), "ElastiCache redis node") {
		t.Errorf("an unpriced ElastiCache node was priced: %v", err)
	}
	tpl.Resources["Rg"].Properties["Engine"] = "valkey"
	tpl.Resources["Db"].Properties["DBInstanceClass"] = "db.x9.huge"
	if _, err := fixedCosts("s", tpl, p); err == nil {
		t.Error("an unpriced instance class was priced")
	}
}
