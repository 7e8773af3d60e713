// Package dashboard provides the Wharf Dashboard construct: the static web
// dashboard (web/) in a private S3 bucket behind CloudFront with origin
// access control, HTTPS only, a strict Content-Security-Policy and the other
// security headers, SPA routing by a CloudFront Function, an optional
// custom domain, and the platform descriptor at /platform.json. The site is
// built at synth time by the pinned npm toolchain (BuildSite); nothing of
// Wharf's runs behind it: browsers call AWS directly with each app's user
// role (docs/dashboard.md).
package dashboard

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsroute53targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/wharf-paas/wharf/constructs/dashboard/csp"
)

// MaxCSPLength is CloudFront's limit on the Content-Security-Policy value of
// a response headers policy (1783 characters).
const MaxCSPLength = 1783

// DefaultPriceClass is the CloudFront price class used when
// DashboardProps.PriceClass is empty.
const DefaultPriceClass = awscloudfront.PriceClass_PRICE_CLASS_100

// DefaultLogRetentionDays is how long the site-deployment function's logs are kept.
const DefaultLogRetentionDays = 30

// DashboardProps configures a Dashboard.
type DashboardProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Platform is the platform descriptor (platform.json, see
	// docs/conventions.md), served at /platform.json. The issuer and the
	// regions of the Content-Security-Policy are read from it. Required.
	Platform *string
	// Regions whose AWS endpoints (STS, SSM, CloudWatch Logs, ECS,
	// CodeBuild) the browser may call (connect-src).
	// Default: the descriptor's region and every app's region.
	Regions []string
	// SiteDir is a directory holding the built site.
	// Default: built from the Wharf module's web/ directory by BuildSite.
	SiteDir *string
	// DomainName is a custom domain for the dashboard
	// (dashboard.example.com).
	// Default: none; the site is served at its *.cloudfront.net name.
	DomainName *string
	// Certificate is an ACM certificate for DomainName. CloudFront only
	// uses certificates in us-east-1: a concrete ARN in another region is
	// rejected. Create one in a us-east-1 stack (with crossRegionReferences)
	// or let the construct create it.
	// Default: with HostedZone and a stack in us-east-1, a DNS-validated
	// certificate created here; otherwise required with DomainName.
	Certificate awscertificatemanager.ICertificate
	// HostedZone holds DomainName; with it the construct adds the alias
	// records (A and AAAA) and can validate a certificate.
	// Default: none; point DomainName at the distribution yourself.
	HostedZone awsroute53.IHostedZone
	// PriceClass of the distribution.
	// Default: PriceClass_100 (North America and Europe edge locations).
	PriceClass awscloudfront.PriceClass
	// WebAclArn attaches an AWS WAF web ACL (scope CLOUDFRONT, us-east-1).
	// Default: none (the site is static and holds no data).
	WebAclArn *string
	// RemovalPolicy of the site bucket.
	// Default: RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
}

// Dashboard is the Wharf web dashboard.
type Dashboard struct {
	constructs.Construct
	// Bucket holds the site; it is private and reachable only through the
	// distribution (origin access control).
	Bucket awss3.Bucket
	// Distribution serves the site.
	Distribution awscloudfront.Distribution
	// ResponseHeaders is the security headers policy of every response.
	ResponseHeaders awscloudfront.ResponseHeadersPolicy
	// Certificate is the custom domain's certificate (nil without one).
	Certificate awscertificatemanager.ICertificate
	// ContentSecurityPolicy is the CSP value served with every response.
	ContentSecurityPolicy string
	// URL is the dashboard's address (https://DomainName or the
	// distribution's domain name, a token).
	URL *string
}

type descriptor struct {
	Version int    `json:"version"`
	Issuer  string `json:"issuer"`
	Region  string `json:"region"`
	Apps    []struct {
		Name   string `json:"name"`
		Region string `json:"region"`
	} `json:"apps"`
}

var (
	prefixRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	domainRE  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	acmARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/.+$`)
	emailLike = regexp.MustCompile(`[^@\s"]+@[^@\s"]+\.[a-z]{2,}`)
)

// Validate checks the props and returns the parsed descriptor's CSP. It
// leaves tokens alone.
func (p *DashboardProps) Validate(stackRegion *string) (string, error) {
	if p == nil || p.Platform == nil || *p.Platform == "" {
		return "", fmt.Errorf("DashboardProps.Platform is required (the platform descriptor JSON)")
	}
	if p.Prefix != nil && !prefixRE.MatchString(*p.Prefix) {
		return "", fmt.Errorf("DashboardProps.Prefix %q: 1-20 lowercase letters, digits and hyphens, starting with a letter", *p.Prefix)
	}
	var d descriptor
	if err := json.Unmarshal([]byte(*p.Platform), &d); err != nil {
		return "", fmt.Errorf("DashboardProps.Platform is not valid JSON: %w", err)
	}
	if d.Version != 1 {
		return "", fmt.Errorf("DashboardProps.Platform: version must be 1, got %d", d.Version)
	}
	// The descriptor is public: it must never carry user lists (docs/security.md).
	if m := emailLike.FindString(*p.Platform); m != "" {
		return "", fmt.Errorf("DashboardProps.Platform must not contain email addresses (found %q): it is served publicly", m)
	}
	regions := p.Regions
	if len(regions) == 0 {
		regions = []string{d.Region}
		for _, a := range d.Apps {
			regions = append(regions, a.Region)
		}
	}
	regions = slices.Compact(slices.Sorted(slices.Values(regions)))
	policy, err := csp.ForPlatform(d.Issuer, regions)
	if err != nil {
		return "", fmt.Errorf("DashboardProps.Platform: %w", err)
	}
	if len(policy) > MaxCSPLength {
		return "", fmt.Errorf("DashboardProps.Regions: the Content-Security-Policy for %d regions is %d characters, over CloudFront's limit of %d; list fewer regions", len(regions), len(policy), MaxCSPLength)
	}
	if p.DomainName != nil && !*awscdk.Token_IsUnresolved(p.DomainName) && !domainRE.MatchString(*p.DomainName) {
		return "", fmt.Errorf("DashboardProps.DomainName %q is not a lowercase DNS name", *p.DomainName)
	}
	if p.DomainName == nil && (p.Certificate != nil || p.HostedZone != nil) {
		return "", fmt.Errorf("DashboardProps.Certificate and HostedZone need DomainName")
	}
	if p.Certificate != nil {
		arn := p.Certificate.CertificateArn()
		if arn != nil && !*awscdk.Token_IsUnresolved(arn) {
			m := acmARNRE.FindStringSubmatch(*arn)
			if m == nil {
				return "", fmt.Errorf("DashboardProps.Certificate: %q is not an ACM certificate ARN", *arn)
			}
			if m[1] != "us-east-1" {
				return "", fmt.Errorf("DashboardProps.Certificate: CloudFront needs a certificate in us-east-1, %s is in %s", *arn, m[1])
			}
		}
	} else if p.DomainName != nil {
		if p.HostedZone == nil {
			return "", fmt.Errorf("DashboardProps.Certificate is required with DomainName unless HostedZone is given")
		}
		if stackRegion == nil || *awscdk.Token_IsUnresolved(stackRegion) || *stackRegion != "us-east-1" {
			r := "an unresolved region"
			if stackRegion != nil && !*awscdk.Token_IsUnresolved(stackRegion) {
				r = *stackRegion
			}
			return "", fmt.Errorf("DashboardProps.Certificate: the stack is in %s; CloudFront needs a certificate in us-east-1: "+
				"pass one created in a us-east-1 stack (crossRegionReferences), or deploy this stack to us-east-1", r)
		}
	}
	if p.WebAclArn != nil && !*awscdk.Token_IsUnresolved(p.WebAclArn) && !strings.HasPrefix(*p.WebAclArn, "arn:aws") {
		return "", fmt.Errorf("DashboardProps.WebAclArn %q is not an ARN", *p.WebAclArn)
	}
	return policy, nil
}

// spaFunction rewrites every path whose last segment has no file extension
// to /index.html, so deep links (/apps/api/deploys/42) load the app.
const spaFunction = `function handler(event) {
  var request = event.request;
  var last = request.uri.split("/").pop();
  if (last.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}`

// NewDashboard defines the dashboard. It panics with a message naming the
// field when props are invalid (the aws-cdk-lib convention).
func NewDashboard(scope constructs.Construct, id *string, props *DashboardProps) *Dashboard {
	stack := awscdk.Stack_Of(scope)
	policy, err := props.Validate(stack.Region())
	if err != nil {
		panic(err.Error())
	}
	prefix := "wharf"
	if props.Prefix != nil {
		prefix = *props.Prefix
	}
	siteDir := ""
	if props.SiteDir != nil {
		siteDir = *props.SiteDir
	} else {
		siteDir, err = BuildSite(WebDir())
		if err != nil {
			panic(err.Error())
		}
	}
	this := constructs.NewConstruct(scope, id)
	d := &Dashboard{Construct: this, ContentSecurityPolicy: policy}
	removal := props.RemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	d.Bucket = awss3.NewBucket(this, jsii.String("SiteBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
	})
	d.Bucket.Node().DefaultChild().(awss3.CfnBucket).OverrideLogicalId(jsii.String("DashboardSiteBucket"))

	d.ResponseHeaders = awscloudfront.NewResponseHeadersPolicy(this, jsii.String("Headers"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("Wharf dashboard: strict CSP and security headers"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: jsii.String(policy), Override: jsii.Bool(true)},
			ContentTypeOptions:    &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:          &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:        &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(730)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true),
			},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Cross-Origin-Opener-Policy"), Value: jsii.String("same-origin"), Override: jsii.Bool(true)},
			{Header: jsii.String("Cross-Origin-Resource-Policy"), Value: jsii.String("same-origin"), Override: jsii.Bool(true)},
			{Header: jsii.String("Permissions-Policy"), Value: jsii.String("camera=(), microphone=(), geolocation=(), payment=(), usb=()"), Override: jsii.Bool(true)},
		}},
	})

	spa := awscloudfront.NewFunction(this, jsii.String("SpaRouting"), &awscloudfront.FunctionProps{
		Code:    awscloudfront.FunctionCode_FromInline(jsii.String(spaFunction)),
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
		Comment: jsii.String("Wharf dashboard: deep links load index.html"),
	})

	var domainNames *[]*string
	if props.DomainName != nil {
		domainNames = &[]*string{props.DomainName}
		d.Certificate = props.Certificate
		if d.Certificate == nil {
			d.Certificate = awscertificatemanager.NewCertificate(this, jsii.String("Certificate"), &awscertificatemanager.CertificateProps{
				DomainName: props.DomainName,
				Validation: awscertificatemanager.CertificateValidation_FromDns(props.HostedZone),
			})
		}
	}
	// The minimum TLS policy applies only to a custom certificate; the
	// default *.cloudfront.net certificate's policy is fixed, and CDK
	// warns when one is set without a certificate.
	minTLS := awscloudfront.SecurityPolicyProtocol("")
	if d.Certificate != nil {
		minTLS = awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021
	}
	priceClass := props.PriceClass
	if priceClass == "" {
		priceClass = DefaultPriceClass
	}
	d.Distribution = awscloudfront.NewDistribution(this, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		Comment:                jsii.String(prefix + " dashboard"),
		DefaultRootObject:      jsii.String("index.html"),
		DomainNames:            domainNames,
		Certificate:            d.Certificate,
		MinimumProtocolVersion: minTLS,
		HttpVersion:            awscloudfront.HttpVersion_HTTP2_AND_3,
		PriceClass:             priceClass,
		WebAclId:               props.WebAclArn,
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(d.Bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD(),
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			Compress:              jsii.Bool(true),
			ResponseHeadersPolicy: d.ResponseHeaders,
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
				Function: spa, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
			}},
		},
	})
	if props.DomainName != nil {
		d.URL = jsii.String("https://" + *props.DomainName)
		if props.HostedZone != nil {
			target := awsroute53.RecordTarget_FromAlias(awsroute53targets.NewCloudFrontTarget(d.Distribution))
			awsroute53.NewARecord(this, jsii.String("Alias"), &awsroute53.ARecordProps{Zone: props.HostedZone, RecordName: props.DomainName, Target: target})
			awsroute53.NewAaaaRecord(this, jsii.String("AliasV6"), &awsroute53.AaaaRecordProps{Zone: props.HostedZone, RecordName: props.DomainName, Target: target})
		}
	} else {
		d.URL = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), d.Distribution.DistributionDomainName()})
	}

	// Site files: hashed assets are immutable; index.html and
	// platform.json are revalidated on every load so a deploy shows at
	// once. Neither deployment prunes, so browsers holding the previous
	// index.html can still load its assets.
	logs := awslogs.NewLogGroup(this, jsii.String("DeployLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	assets := awss3deployment.NewBucketDeployment(this, jsii.String("Assets"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: d.Bucket,
		Sources:           &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(siteDir), nil)},
		Exclude:           &[]*string{jsii.String("index.html")},
		Prune:             jsii.Bool(false),
		CacheControl: &[]awss3deployment.CacheControl{
			awss3deployment.CacheControl_FromString(jsii.String("public, max-age=31536000, immutable")),
		},
		LogGroup: logs,
	})
	entry := awss3deployment.NewBucketDeployment(this, jsii.String("Entry"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: d.Bucket,
		Sources: &[]awss3deployment.ISource{
			awss3deployment.Source_Asset(jsii.String(siteDir), nil),
			awss3deployment.Source_Data(jsii.String("platform.json"), props.Platform, nil),
		},
		Include:           &[]*string{jsii.String("index.html"), jsii.String("platform.json")},
		Exclude:           &[]*string{jsii.String("*")},
		Prune:             jsii.Bool(false),
		CacheControl:      &[]awss3deployment.CacheControl{awss3deployment.CacheControl_FromString(jsii.String("no-cache"))},
		Distribution:      d.Distribution,
		DistributionPaths: &[]*string{jsii.String("/index.html"), jsii.String("/platform.json")},
		LogGroup:          logs,
	})
	entry.Node().AddDependency(assets)

	d.addNagSuppressions(stack, props)
	awscdk.NewCfnOutput(this, jsii.String("Url"), &awscdk.CfnOutputProps{Value: d.URL, Description: jsii.String("Wharf dashboard")})
	return d
}

func (d *Dashboard) addNagSuppressions(stack awscdk.Stack, props *DashboardProps) {
	cdknag.NagSuppressions_AddResourceSuppressions(d.Bucket, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("holds only the public static site and platform.json (no data); CloudFront serves it, and writes come only from the CDK deployment"),
	}}, jsii.Bool(false))
	dist := []*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-CFR1"), Reason: jsii.String("the site is a static shell with no data; who may use Wharf is decided by the OIDC issuer and IAM, not by geography")},
		{Id: jsii.String("AwsSolutions-CFR3"), Reason: jsii.String("access logs of a static shell reveal nothing; every data access is an AWS API call recorded by CloudTrail")},
	}
	if props.WebAclArn == nil {
		dist = append(dist, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-CFR2"),
			Reason: jsii.String("no server-side logic to protect: the site is static files; set WebAclArn to attach a WAF web ACL")})
	}
	if props.DomainName == nil {
		dist = append(dist, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-CFR4"),
			Reason: jsii.String("without DomainName CloudFront serves its *.cloudfront.net certificate, whose TLS policy cannot be set; with DomainName the distribution requires TLSv1.2_2021")})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(d.Distribution, &dist, jsii.Bool(true))
	// The BucketDeployment's singleton function, created by CDK at the stack root.
	for _, c := range *stack.Node().Children() {
		id := *c.Node().Id()
		if !strings.HasPrefix(id, "Custom::CDKBucketDeployment") {
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String("CDK's BucketDeployment function uses AWSLambdaBasicExecutionRole to write its own logs"),
				AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
			{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("CDK's BucketDeployment grants: read of the CDK asset objects, write and delete of objects in the site bucket, and CloudFront invalidation, which has no resource-level scoping beyond the distribution")},
			{Id: jsii.String("AwsSolutions-L1"), Reason: jsii.String("the BucketDeployment function's runtime is chosen by aws-cdk-lib and moves with it")},
		}, jsii.Bool(true))
	}
}
