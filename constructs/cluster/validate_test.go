package cluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestValidateAcceptsMinimalProps(t *testing.T) {
	if err := mainProps().Validate(); err != nil {
		t.Fatalf("valid props rejected: %v", err)
	}
	p := mainProps()
	p.Domain = jsii.String("example.com") // the zone apex itself
	if err := p.Validate(); err != nil {
		t.Fatalf("apex domain rejected: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*ClusterProps)
		want   string
	}{
		{"nil name", func(p *ClusterProps) { p.Name = nil }, "name: required"},
		{"uppercase name", func(p *ClusterProps) { p.Name = jsii.String("Main") }, `name: "Main" must be lowercase letters, digits and single hyphens`},
		{"long name", func(p *ClusterProps) { p.Name = jsii.String("a23456789012345678901") }, `name: "a23456789012345678901" is 21 characters; cluster names have 2-20 characters`},
		{"double hyphen", func(p *ClusterProps) { p.Name = jsii.String("a--b") }, `name: "a--b" must be lowercase letters, digits and single hyphens`},
		{"bad prefix", func(p *ClusterProps) { p.Prefix = jsii.String("Wharf") }, `prefix: "Wharf" must be a lowercase letter`},
		{"cidr not a cidr", func(p *ClusterProps) { p.Cidr = jsii.String("10.100.0.0") }, `cidr "10.100.0.0": must be an IPv4 CIDR`},
		{"cidr mask too large", func(p *ClusterProps) { p.Cidr = jsii.String("10.0.0.0/8") }, `cidr "10.0.0.0/8": mask must be between /16 and /24`},
		{"cidr mask too small", func(p *ClusterProps) { p.Cidr = jsii.String("10.0.0.0/25") }, `cidr "10.0.0.0/25": mask must be between /16 and /24`},
		{"cidr host bits", func(p *ClusterProps) { p.Cidr = jsii.String("10.100.1.0/16") }, `cidr "10.100.1.0/16": host bits must be zero (did you mean 10.100.0.0/16?)`},
		{"cidr public", func(p *ClusterProps) { p.Cidr = jsii.String("8.8.0.0/16") }, `cidr "8.8.0.0/16": must be inside a private range`},
		{"cidr ipv6", func(p *ClusterProps) { p.Cidr = jsii.String("fd00::/56") }, `cidr "fd00::/56": must be an IPv4 CIDR`},
		{"two azs", func(p *ClusterProps) { p.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b"} }, "availabilityZones [eu-west-1a eu-west-1b]: exactly 3 availability zones are required, got 2"},
		{"four azs", func(p *ClusterProps) {
			p.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"}
		}, "exactly 3 availability zones are required, got 4"},
		{"no azs", func(p *ClusterProps) { p.AvailabilityZones = nil }, "exactly 3 availability zones are required, got 0"},
		{"az not a zone", func(p *ClusterProps) { p.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1"} }, `availabilityZones: "eu-west-1" is not an availability zone name`},
		{"azs two regions", func(p *ClusterProps) { p.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-2c"} }, "all zones must be in one region (found eu-west-1 and eu-west-2)"},
		{"az twice", func(p *ClusterProps) { p.AvailabilityZones = []string{"eu-west-1a", "eu-west-1b", "eu-west-1a"} }, `availabilityZones: "eu-west-1a" is listed twice`},
		{"no domain", func(p *ClusterProps) { p.Domain = nil }, "domain: required"},
		{"domain one label", func(p *ClusterProps) { p.Domain = jsii.String("localhost") }, `domain "localhost": must be a DNS name with at least two labels`},
		{"domain uppercase", func(p *ClusterProps) { p.Domain = jsii.String("Apps.example.com") }, `domain "Apps.example.com": must be lowercase`},
		{"domain wildcard", func(p *ClusterProps) { p.Domain = jsii.String("*.example.com") }, `domain "*.example.com": label "*" must be 1-63 characters`},
		{"domain bad label", func(p *ClusterProps) { p.Domain = jsii.String("-apps.example.com") }, `label "-apps" must be 1-63 characters`},
		{"domain outside zone", func(p *ClusterProps) { p.Domain = jsii.String("apps.example.net") }, `domain "apps.example.net": must be the hosted zone "example.com" or a subdomain of it`},
		{"domain suffix not subdomain", func(p *ClusterProps) { p.Domain = jsii.String("badexample.com") }, `domain "badexample.com": must be the hosted zone "example.com" or a subdomain of it`},
		{"no hosted zone id", func(p *ClusterProps) { p.HostedZoneID = nil }, "hostedZoneId: required"},
		{"empty hosted zone id", func(p *ClusterProps) { p.HostedZoneID = jsii.String("") }, "hostedZoneId: required"},
		{"bad hosted zone id", func(p *ClusterProps) { p.HostedZoneID = jsii.String("example.com") }, `hostedZoneId "example.com": must be a Route53 hosted zone ID`},
		{"no hosted zone name", func(p *ClusterProps) { p.HostedZoneName = nil }, "hostedZoneName: required"},
		{"bad hosted zone name", func(p *ClusterProps) { p.HostedZoneName = jsii.String("com") }, `hostedZoneName "com": must be a DNS name with at least two labels`},
		{"flow log retention", func(p *ClusterProps) { p.FlowLogRetentionDays = intp(31) }, "flowLogRetentionDays 31: must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90"},
		{"access log retention", func(p *ClusterProps) { p.AccessLogRetentionDays = intp(0) }, "accessLogRetentionDays 0: must be between 1 and 3650"},
		{"ec2 no instance type", func(p *ClusterProps) { p.Ec2Capacity = &Ec2CapacityProps{} }, `ec2Capacity.instanceType "": must be an EC2 instance type like t4g.medium`},
		{"ec2 bad instance type", func(p *ClusterProps) { p.Ec2Capacity = &Ec2CapacityProps{InstanceType: jsii.String("large")} }, `ec2Capacity.instanceType "large"`},
		{"ec2 min negative", func(p *ClusterProps) {
			p.Ec2Capacity = &Ec2CapacityProps{InstanceType: jsii.String("t3.small"), MinCapacity: intp(-1)}
		}, "ec2Capacity.minCapacity -1: must be between 0 and 100"},
		{"ec2 max below min", func(p *ClusterProps) {
			p.Ec2Capacity = &Ec2CapacityProps{InstanceType: jsii.String("t3.small"), MinCapacity: intp(4), MaxCapacity: intp(2)}
		}, "ec2Capacity.maxCapacity 2: must be at least minCapacity (4)"},
		{"ec2 max zero", func(p *ClusterProps) {
			p.Ec2Capacity = &Ec2CapacityProps{InstanceType: jsii.String("t3.small"), MinCapacity: intp(0), MaxCapacity: intp(0)}
		}, "ec2Capacity.maxCapacity 0: must be between 1 and 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mainProps()
			tc.mutate(p)
			err := p.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := (&ClusterProps{Cidr: jsii.String("10.0.0.0/8")}).Validate()
	if err == nil {
		t.Fatal("empty props accepted")
	}
	for _, want := range []string{"name: required", "cidr", "availabilityZones", "domain: required", "hostedZoneId: required", "hostedZoneName: required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := (*ClusterProps)(nil).Validate(); err == nil {
		t.Error("nil props accepted")
	}
}

func TestEc2CapacityDefaults(t *testing.T) {
	for _, tc := range []struct {
		min, max *int
		lo, hi   int
		desc     string
	}{
		{nil, nil, 1, 3, "defaults"},
		{intp(5), nil, 5, 5, "max follows a larger min"},
		{intp(0), intp(10), 0, 10, "explicit"},
	} {
		lo, hi := (&Ec2CapacityProps{MinCapacity: tc.min, MaxCapacity: tc.max}).minMax()
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: minMax() = %d, %d, want %d, %d", tc.desc, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestFromNamePropsValidate(t *testing.T) {
	good := &FromNameProps{Name: jsii.String("main"), AvailabilityZones: testAZs}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid props rejected: %v", err)
	}
	good.Domain = jsii.String("apps.example.com")
	if err := good.Validate(); err != nil {
		t.Fatalf("valid domain rejected: %v", err)
	}
	for _, tc := range []struct {
		p    *FromNameProps
		want string
	}{
		{&FromNameProps{AvailabilityZones: testAZs}, "name: required"},
		{&FromNameProps{Name: jsii.String("Main"), AvailabilityZones: testAZs}, `name: "Main"`},
		{&FromNameProps{Name: jsii.String("main"), AvailabilityZones: testAZs[:2]}, "exactly 3 availability zones are required, got 2"},
		{&FromNameProps{Prefix: jsii.String(""), Name: jsii.String("main"), AvailabilityZones: testAZs}, `prefix: is required: 1-16 characters`},
		{&FromNameProps{Name: jsii.String("main"), AvailabilityZones: testAZs, Domain: jsii.String("Apps.Example.com")}, `domain "Apps.Example.com": must be lowercase`},
		{nil, "must not be nil"},
	} {
		err := tc.p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
		}
	}
}

func TestParameterNames(t *testing.T) {
	if got := ParameterName("wharf", "main", ParamVpcID); got != "/wharf/clusters/main/vpc-id" {
		t.Errorf("ParameterName = %q", got)
	}
	seen := map[string]bool{}
	for _, k := range ParameterKeys {
		if seen[k] {
			t.Errorf("key %q listed twice", k)
		}
		seen[k] = true
	}
	if got := AvailabilityZonesContextKey("111122223333", "eu-west-1"); got != "availability-zones:account=111122223333:region=eu-west-1" {
		t.Errorf("AvailabilityZonesContextKey = %q", got)
	}
}

// panicOf runs fn and returns the panic value as a string ("" if none).
func panicOf(fn func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	fn()
	return ""
}

// TestNewClusterPanics covers the errors NewCluster raises before it
// creates anything. No test here synthesizes.
func TestNewClusterPanics(t *testing.T) {
	t.Run("invalid props panic with the Validate error", func(t *testing.T) {
		app := newTestApp(t)
		st := awscdk.NewStack(app, jsii.String("s"), &awscdk.StackProps{Env: testEnv()})
		p := mainProps()
		p.Cidr = jsii.String("10.0.0.0/12")
		want := p.Validate().Error()
		if got := panicOf(func() { NewCluster(st, "Cluster", p) }); got != want {
			t.Errorf("panic %q, want %q", got, want)
		}
		if n := len(*st.Node().Children()); n != 0 {
			t.Errorf("stack has %d children after a failed NewCluster, want 0", n)
		}
	})
	t.Run("environment-agnostic stack", func(t *testing.T) {
		app := newTestApp(t)
		st := awscdk.NewStack(app, jsii.String("agnostic"), nil)
		got := panicOf(func() { NewCluster(st, "Cluster", mainProps()) })
		if !strings.Contains(got, "stack agnostic needs an explicit env (account and region)") {
			t.Errorf("panic %q", got)
		}
	})
	t.Run("zones of another region", func(t *testing.T) {
		app := newTestApp(t)
		st := awscdk.NewStack(app, jsii.String("s"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String("us-east-1")}})
		got := panicOf(func() { NewCluster(st, "Cluster", mainProps()) })
		if !strings.Contains(got, "availabilityZones [eu-west-1a eu-west-1b eu-west-1c]: must be in the stack's region us-east-1") {
			t.Errorf("panic %q", got)
		}
	})
	t.Run("missing availability-zones context", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		st := awscdk.NewStack(app, jsii.String("s"), &awscdk.StackProps{Env: testEnv()})
		got := panicOf(func() { NewCluster(st, "Cluster", mainProps()) })
		want := `cluster: context "availability-zones:account=111122223333:region=eu-west-1" is not set; call cluster.SetAvailabilityZonesContext`
		if !strings.Contains(got, want) {
			t.Errorf("panic %q, want it to contain %q", got, want)
		}
	})
	t.Run("zone missing from context", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		if err := SetAvailabilityZonesContext(app, testAccount, testRegion, []string{"eu-west-1a", "eu-west-1b"}); err != nil {
			t.Fatal(err)
		}
		st := awscdk.NewStack(app, jsii.String("s"), &awscdk.StackProps{Env: testEnv()})
		got := panicOf(func() { NewCluster(st, "Cluster", mainProps()) })
		if !strings.Contains(got, `availabilityZones: "eu-west-1c" is not among the zones in context`) {
			t.Errorf("panic %q", got)
		}
	})
	t.Run("FromName panics with the Validate error", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		st := awscdk.NewStack(app, jsii.String("s"), nil)
		got := panicOf(func() { FromName(st, "Cluster", &FromNameProps{Name: jsii.String("x")}) })
		if !strings.Contains(got, `name: "x" is 1 characters; cluster names have 2-20 characters`) || !strings.Contains(got, "exactly 3 availability zones") {
			t.Errorf("panic %q", got)
		}
	})
}

func TestSetAvailabilityZonesContext(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	for _, tc := range []struct {
		account, region string
		azs             []string
		want            string
	}{
		{"1234", testRegion, testAZs, `account "1234" must be a 12-digit AWS account ID`},
		{testAccount, "eu-west-2", testAZs, "zones [eu-west-1a eu-west-1b eu-west-1c] are not in region eu-west-2"},
		{testAccount, testRegion, nil, "at least one availability zone is required"},
		{testAccount, testRegion, []string{"eu-west-1a", "eu-west-1a"}, `"eu-west-1a" is listed twice`},
	} {
		err := SetAvailabilityZonesContext(app, tc.account, tc.region, tc.azs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetAvailabilityZonesContext(%s, %s, %v) = %v, want error containing %q", tc.account, tc.region, tc.azs, err, tc.want)
		}
	}
	// Four zones are fine here (the union of several clusters' zones).
	four := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"}
	if err := SetAvailabilityZonesContext(app, testAccount, testRegion, four); err != nil {
		t.Fatalf("valid call failed: %v", err)
	}
	got := contextStrings(app.Node().TryGetContext(jsii.String(AvailabilityZonesContextKey(testAccount, testRegion))))
	if strings.Join(got, ",") != strings.Join(four, ",") {
		t.Errorf("context = %v, want %v", got, four)
	}
	awscdk.NewStack(app, jsii.String("child"), nil)
	err := SetAvailabilityZonesContext(app, testAccount, testRegion, testAZs)
	if err == nil || !strings.Contains(err.Error(), "scope already has 1 children; call it before adding constructs") {
		t.Errorf("after adding a stack: %v", err)
	}
}
