package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const platformJSON = `{"version":1,"prefix":"wharf","issuer":"https://login.example.com","clientId":"wharf-cli",
"region":"eu-west-1","accountId":"111122223333","apps":[
{"name":"api","accountId":"111122223333","region":"eu-west-1"},
{"name":"eu","accountId":"111122223333","region":"eu-central-1"}]}`

// fixtureSite is a minimal built site, so construct tests need no npm.
func fixtureSite(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(d, "assets"), 0o755))
	must(t, os.WriteFile(filepath.Join(d, "index.html"), []byte(`<!doctype html><script type="module" src="/assets/index-abc.js"></script>`), 0o644))
	must(t, os.WriteFile(filepath.Join(d, "assets", "index-abc.js"), []byte(`console.log("wharf")`), 0o644))
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func stack(app awscdk.App, region string) awscdk.Stack {
	return awscdk.NewStack(app, jsii.String("Dash"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String(region)}})
}

func TestDashboardDefaults(t *testing.T) {
	app := cdktest.NewApp(t)
	st := stack(app, "eu-west-1")
	d := NewDashboard(st, jsii.String("Dashboard"), &DashboardProps{Platform: jsii.String(platformJSON), SiteDir: jsii.String(fixtureSite(t))})
	tpl := cdktest.Template(t, st)
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
		})
	})
	// Pinned logical ID of the only stateful resource.
	cdktest.Check(t, func() {
		tpl.TemplateMatches(map[string]any{"Resources": map[string]any{"DashboardSiteBucket": map[string]any{"Type": "AWS::S3::Bucket"}}})
	})
	cdktest.Check(t, func() { tpl.ResourceCountIs(jsii.String("AWS::CloudFront::OriginAccessControl"), jsii.Number(1)) })
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), map[string]any{"DistributionConfig": map[string]any{
			"DefaultRootObject": "index.html",
			"PriceClass":        "PriceClass_100",
			"DefaultCacheBehavior": map[string]any{
				"ViewerProtocolPolicy":    "redirect-to-https",
				"AllowedMethods":          []any{"GET", "HEAD"},
				"FunctionAssociations":    []any{map[string]any{"EventType": "viewer-request", "FunctionARN": assertions.Match_AnyValue()}},
				"ResponseHeadersPolicyId": assertions.Match_AnyValue(),
			},
			"Origins": []any{map[string]any{"OriginAccessControlId": assertions.Match_AnyValue(), "S3OriginConfig": map[string]any{"OriginAccessIdentity": ""}}},
		}})
	})
	// The bucket policy admits only CloudFront, for this distribution.
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			map[string]any{"Action": "s3:GetObject", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudfront.amazonaws.com"},
				"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": assertions.Match_AnyValue()}}, "Resource": assertions.Match_AnyValue()},
		})}})
	})
	want := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"connect-src 'self' https://login.example.com " +
		"https://codebuild.eu-central-1.amazonaws.com https://codebuild.eu-west-1.amazonaws.com https://ecs.eu-central-1.amazonaws.com https://ecs.eu-west-1.amazonaws.com " +
		"https://logs.eu-central-1.amazonaws.com https://logs.eu-west-1.amazonaws.com https://ssm.eu-central-1.amazonaws.com https://ssm.eu-west-1.amazonaws.com " +
		"https://sts.eu-central-1.amazonaws.com https://sts.eu-west-1.amazonaws.com; " +
		"manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	if d.ContentSecurityPolicy != want {
		t.Errorf("CSP:\n got %s\nwant %s", d.ContentSecurityPolicy, want)
	}
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), map[string]any{"ResponseHeadersPolicyConfig": map[string]any{
			"SecurityHeadersConfig": map[string]any{
				"ContentSecurityPolicy":   map[string]any{"ContentSecurityPolicy": want, "Override": true},
				"ContentTypeOptions":      map[string]any{"Override": true},
				"FrameOptions":            map[string]any{"FrameOption": "DENY", "Override": true},
				"ReferrerPolicy":          map[string]any{"ReferrerPolicy": "no-referrer", "Override": true},
				"StrictTransportSecurity": map[string]any{"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": true, "Override": true},
			},
		}})
	})
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudFront::Function"), map[string]any{
			"FunctionConfig": map[string]any{"Runtime": "cloudfront-js-2.0"},
			"FunctionCode":   assertions.Match_StringLikeRegexp(jsii.String(`request\.uri = "/index\.html"`)),
		})
	})
	// Two deployments: immutable assets, then index.html and platform.json revalidated and invalidated.
	cdktest.Check(t, func() { tpl.ResourceCountIs(jsii.String("Custom::CDKBucketDeployment"), jsii.Number(2)) })
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("Custom::CDKBucketDeployment"), map[string]any{
			"SystemMetadata":    map[string]any{"cache-control": "no-cache"},
			"DistributionPaths": []any{"/index.html", "/platform.json"},
			"Prune":             false,
		})
	})
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("Custom::CDKBucketDeployment"), map[string]any{
			"SystemMetadata": map[string]any{"cache-control": "public, max-age=31536000, immutable"},
			"Exclude":        []any{"index.html"},
		})
	})
	cdktest.AssertNagClean(t, st)
}

func TestDashboardCustomDomain(t *testing.T) {
	app := cdktest.NewApp(t)
	st := stack(app, "us-east-1")
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(st, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{HostedZoneId: jsii.String("Z0123456789ABC"), ZoneName: jsii.String("example.com")})
	d := NewDashboard(st, jsii.String("Dashboard"), &DashboardProps{Platform: jsii.String(platformJSON), SiteDir: jsii.String(fixtureSite(t)),
		DomainName: jsii.String("dashboard.example.com"), HostedZone: zone})
	if *d.URL != "https://dashboard.example.com" {
		t.Errorf("URL %s", *d.URL)
	}
	tpl := cdktest.Template(t, st)
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CertificateManager::Certificate"), map[string]any{"DomainName": "dashboard.example.com", "ValidationMethod": "DNS"})
	})
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), map[string]any{"DistributionConfig": map[string]any{
			"Aliases":           []any{"dashboard.example.com"},
			"ViewerCertificate": map[string]any{"MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only", "AcmCertificateArn": assertions.Match_AnyValue()},
		}})
	})
	cdktest.Check(t, func() { tpl.ResourceCountIs(jsii.String("AWS::Route53::RecordSet"), jsii.Number(2)) })
	// With a custom domain nothing excuses the TLS policy: CFR4 must pass on its own.
	cdktest.AssertNagClean(t, st)
}

func TestDashboardImportedCertificate(t *testing.T) {
	app := cdktest.NewApp(t)
	st := stack(app, "eu-west-1")
	cert := awscertificatemanager.Certificate_FromCertificateArn(st, jsii.String("Cert"), jsii.String("arn:aws:acm:us-east-1:111122223333:certificate/abcd"))
	NewDashboard(st, jsii.String("Dashboard"), &DashboardProps{Platform: jsii.String(platformJSON), SiteDir: jsii.String(fixtureSite(t)),
		DomainName: jsii.String("dashboard.example.com"), Certificate: cert})
	tpl := cdktest.Template(t, st)
	cdktest.Check(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), map[string]any{"DistributionConfig": map[string]any{
			"ViewerCertificate": map[string]any{"AcmCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abcd"},
		}})
	})
	cdktest.Check(t, func() { tpl.ResourceCountIs(jsii.String("AWS::CertificateManager::Certificate"), jsii.Number(0)) })
}

func TestValidateRejects(t *testing.T) {
	app := awscdk.NewApp(nil)
	st := stack(app, "eu-west-1")
	zone := awsroute53.HostedZone_FromHostedZoneAttributes(st, jsii.String("Zone"), &awsroute53.HostedZoneAttributes{HostedZoneId: jsii.String("Z1"), ZoneName: jsii.String("example.com")})
	euCert := awscertificatemanager.Certificate_FromCertificateArn(st, jsii.String("Cert"), jsii.String("arn:aws:acm:eu-west-1:111122223333:certificate/abcd"))
	tokenCert := awscertificatemanager.Certificate_FromCertificateArn(st, jsii.String("TokenCert"), awscdk.Fn_ImportValue(jsii.String("cert-arn")))
	many := []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "sa-east-1"}
	for _, c := range []struct {
		name  string
		props DashboardProps
		want  string
	}{
		{"no platform", DashboardProps{}, "Platform is required"},
		{"not json", DashboardProps{Platform: jsii.String("{")}, "not valid JSON"},
		{"version", DashboardProps{Platform: jsii.String(`{"version":2}`)}, "version must be 1"},
		{"emails", DashboardProps{Platform: jsii.String(strings.Replace(platformJSON, `"clientId"`, `"allowed":["alice@example.com"],"clientId"`, 1))}, "must not contain email"},
		{"http issuer", DashboardProps{Platform: jsii.String(strings.Replace(platformJSON, "https://login", "http://login", 1))}, "https"},
		{"bad region", DashboardProps{Platform: jsii.String(platformJSON), Regions: []string{"eu-west-1 *"}}, "not an AWS region"},
		{"csp too long", DashboardProps{Platform: jsii.String(platformJSON), Regions: many}, "over CloudFront's limit"},
		{"bad domain", DashboardProps{Platform: jsii.String(platformJSON), DomainName: jsii.String("Dash_board.example.com"), HostedZone: zone}, "DomainName"},
		{"zone without domain", DashboardProps{Platform: jsii.String(platformJSON), HostedZone: zone}, "need DomainName"},
		{"cert in eu-west-1", DashboardProps{Platform: jsii.String(platformJSON), DomainName: jsii.String("d.example.com"), Certificate: euCert}, "us-east-1"},
		{"domain without cert or zone", DashboardProps{Platform: jsii.String(platformJSON), DomainName: jsii.String("d.example.com")}, "Certificate is required"},
		{"zone but stack not in us-east-1", DashboardProps{Platform: jsii.String(platformJSON), DomainName: jsii.String("d.example.com"), HostedZone: zone}, "stack is in eu-west-1"},
		{"bad prefix", DashboardProps{Platform: jsii.String(platformJSON), Prefix: jsii.String("Wharf")}, "Prefix"},
	} {
		_, err := c.props.Validate(st.Region())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// Tokens are left alone.
	ok := DashboardProps{Platform: jsii.String(platformJSON), DomainName: jsii.String("d.example.com"), Certificate: tokenCert}
	if _, err := ok.Validate(st.Region()); err != nil {
		t.Errorf("token certificate ARN: %v", err)
	}
}

func TestNewDashboardPanicsNamingTheField(t *testing.T) {
	app := awscdk.NewApp(nil)
	st := stack(app, "eu-west-1")
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "DashboardProps.Platform") {
			t.Errorf("panic %v", r)
		}
	}()
	NewDashboard(st, jsii.String("D"), &DashboardProps{SiteDir: jsii.String(t.TempDir())})
}

// The site is built by the pinned toolchain at synth time; the asset (and so
// the deployment) changes exactly when a source changes.
func TestSiteBuildIsDeterministic(t *testing.T) {
	web := WebDir()
	if _, err := os.Stat(filepath.Join(web, "node_modules", "vite")); err != nil {
		if os.Getenv("WHARF_E2E") == "1" {
			t.Fatal("web/node_modules missing (npm ci in web/)")
		}
		t.Skip("web/node_modules missing; make test runs npm ci in web/")
	}
	// A copy of the sources, with the installed toolchain linked in.
	src := filepath.Join(t.TempDir(), "web")
	must(t, copySources(web, src))
	must(t, os.Symlink(filepath.Join(web, "node_modules"), filepath.Join(src, "node_modules")))
	build := func(out string) string {
		t.Helper()
		must(t, npm(src, "exec", "--", "vite", "build", "--outDir", out, "--emptyOutDir", "--logLevel", "warn"))
		return out
	}
	tmp := t.TempDir()
	a := build(filepath.Join(tmp, "a"))
	b := build(filepath.Join(tmp, "b"))
	if ha, hb := treeHash(t, a), treeHash(t, b); ha != hb {
		t.Fatalf("two builds of the same sources differ: %s vs %s", ha, hb)
	}
	h1, err := SourceHash(src)
	must(t, err)
	page := filepath.Join(src, "src", "pages", "apps.tsx")
	body, err := os.ReadFile(page)
	must(t, err)
	must(t, os.WriteFile(page, []byte(strings.Replace(string(body), "<h1>Apps</h1>", "<h1>Applications</h1>", 1)), 0o644))
	h2, err := SourceHash(src)
	must(t, err)
	if h1 == h2 {
		t.Error("SourceHash did not change with the sources")
	}
	c := build(filepath.Join(tmp, "c"))
	if treeHash(t, a) == treeHash(t, c) {
		t.Error("changing a page did not change the build")
	}
	// Same bytes in different directories: the same CDK asset.
	key := func(dir string) string {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		st := stack(app, "eu-west-1")
		NewDashboard(st, jsii.String("Dashboard"), &DashboardProps{Platform: jsii.String(platformJSON), SiteDir: jsii.String(dir)})
		tpl := assertions.Template_FromStack(st, nil).ToJSON()
		b, _ := json.Marshal(tpl)
		return strings.Join(assetKeyRE.FindAllString(string(b), -1), ",")
	}
	if ka, kb, kc := key(a), key(b), key(c); ka != kb || ka == kc || ka == "" {
		t.Errorf("asset keys: a=%s b=%s c=%s", ka, kb, kc)
	}
}

var assetKeyRE = regexp.MustCompile(`[0-9a-f]{64}\.zip`)

func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(b))
		h.Write(b)
		return nil
	})
	must(t, err)
	return hex.EncodeToString(h.Sum(nil))
}
