package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// DefaultCidr is the VPC CIDR used when ClusterProps.Cidr is nil.
const DefaultCidr = "10.100.0.0/16"

// DefaultFlowLogRetentionDays is the flow-log retention used when
// ClusterProps.FlowLogRetentionDays is nil.
const DefaultFlowLogRetentionDays = 30

// DefaultAccessLogRetentionDays is how long load-balancer access logs are
// kept when ClusterProps.AccessLogRetentionDays is nil.
const DefaultAccessLogRetentionDays = 90

// AvailabilityZoneCount is the number of availability zones a cluster spans.
const AvailabilityZoneCount = 3

// ClusterProps configures a Cluster. Every field maps one-to-one to a
// cluster entry of the platform config file.
type ClusterProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the Wharf name of the cluster: 2-20 characters, lowercase
	// letters, digits and single hyphens, starting with a letter. It names
	// the ECS cluster (<prefix>-<name>), the stack (<prefix>-cluster-<name>)
	// and the SSM path /<prefix>/clusters/<name>/. Required.
	Name *string
	// Cidr is the VPC's IPv4 CIDR: a private (RFC 1918) network with a mask
	// from /16 to /24. It is cut into 8 equal blocks: 3 public subnets, 3
	// private subnets, 2 spare.
	// Default: "10.100.0.0/16".
	Cidr *string
	// AvailabilityZones are the three availability zones of the cluster's
	// region, for example eu-west-1a, eu-west-1b, eu-west-1c. Given
	// explicitly because synthesis makes no AWS lookups. Required.
	AvailabilityZones []string
	// Domain is the cluster domain; apps are served at <app>.<domain> under
	// a wildcard certificate for *.<domain>. It must be HostedZoneName or a
	// subdomain of it. Required.
	Domain *string
	// HostedZoneID is the ID of the public Route53 hosted zone that holds
	// Domain (Z...). Required.
	HostedZoneID *string
	// HostedZoneName is the name of that hosted zone (example.com). Required.
	HostedZoneName *string
	// Ec2Capacity adds an EC2 Auto Scaling group and its capacity provider
	// to the ECS cluster.
	// Default: none; the cluster has Fargate and Fargate Spot only.
	Ec2Capacity *Ec2CapacityProps
	// FlowLogRetentionDays is how long VPC flow logs are kept in CloudWatch
	// Logs; one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30,
	// 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
	// 2922, 3288, 3653).
	// Default: 30.
	FlowLogRetentionDays *int
	// AccessLogRetentionDays is how long load-balancer access logs are kept
	// in the access-log bucket (1-3650).
	// Default: 90.
	AccessLogRetentionDays *int
}

// Ec2CapacityProps configures the optional EC2 capacity of a cluster. The
// instances run the ECS-optimized Amazon Linux 2023 AMI (arm64 or x86_64 to
// match the instance type) in the public subnets.
type Ec2CapacityProps struct {
	// InstanceType is the EC2 instance type, for example t4g.medium.
	// Required.
	InstanceType *string
	// MinCapacity is the smallest number of instances (0-100).
	// Default: 1.
	MinCapacity *int
	// MaxCapacity is the largest number of instances (1-100, at least
	// MinCapacity).
	// Default: 3, or MinCapacity if that is larger.
	MaxCapacity *int
}

var (
	azRe           = regexp.MustCompile(`^([a-z]{2}(-[a-z]+)+-[0-9]+)[a-z]$`)
	hostedZoneIDRe = regexp.MustCompile(`^Z[A-Z0-9]{1,31}$`)
	labelRe        = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	instanceTypeRe = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

// ValidateName is contract.ValidateClusterName: 2-20 characters of lowercase
// letters, digits and single hyphens, starting with a letter and not ending
// with a hyphen.
func ValidateName(name string) error {
	return contract.ValidateClusterName(name)
}

// ValidateAvailabilityZones checks that azs names exactly three distinct
// availability zones of one region and returns that region.
func ValidateAvailabilityZones(azs []string) (string, error) {
	if len(azs) != AvailabilityZoneCount {
		return "", fmt.Errorf("availabilityZones %v: exactly %d availability zones are required, got %d", azs, AvailabilityZoneCount, len(azs))
	}
	return validateZoneList(azs)
}

// validateZoneList checks that azs are distinct availability zone names of
// one region and returns the region.
func validateZoneList(azs []string) (string, error) {
	if len(azs) == 0 {
		return "", errors.New("availabilityZones: at least one availability zone is required")
	}
	region := ""
	seen := map[string]bool{}
	for _, az := range azs {
		m := azRe.FindStringSubmatch(az)
		if m == nil {
			return "", fmt.Errorf("availabilityZones: %q is not an availability zone name (like eu-west-1a)", az)
		}
		if region != "" && m[1] != region {
			return "", fmt.Errorf("availabilityZones %v: all zones must be in one region (found %s and %s)", azs, region, m[1])
		}
		region = m[1]
		if seen[az] {
			return "", fmt.Errorf("availabilityZones: %q is listed twice", az)
		}
		seen[az] = true
	}
	return region, nil
}

// Validate checks every field and returns all problems at once, each naming
// the field and the rule it breaks. NewCluster panics with the same error.
func (p *ClusterProps) Validate() error {
	if p == nil {
		return errors.New("cluster props: must not be nil")
	}
	var errs []error
	if err := contract.ValidatePrefix(p.prefix()); err != nil {
		errs = append(errs, err)
	}
	if p.Name == nil {
		errs = append(errs, errors.New("name: required"))
	} else if err := ValidateName(*p.Name); err != nil {
		errs = append(errs, err)
	}
	if _, err := p.subnetMask(); err != nil {
		errs = append(errs, err)
	}
	if _, err := ValidateAvailabilityZones(p.AvailabilityZones); err != nil {
		errs = append(errs, err)
	}
	domainOK := false
	if p.Domain == nil {
		errs = append(errs, errors.New("domain: required"))
	} else if err := validateDomain("domain", *p.Domain); err != nil {
		errs = append(errs, err)
	} else if len(*p.Domain) > 200 {
		errs = append(errs, fmt.Errorf("domain %q: must be at most 200 characters so that <app>.<domain> fits in a DNS name", *p.Domain))
	} else {
		domainOK = true
	}
	if p.HostedZoneID == nil || *p.HostedZoneID == "" {
		errs = append(errs, errors.New("hostedZoneId: required (the Route53 hosted zone that holds the domain)"))
	} else if !hostedZoneIDRe.MatchString(*p.HostedZoneID) {
		errs = append(errs, fmt.Errorf("hostedZoneId %q: must be a Route53 hosted zone ID (Z followed by uppercase letters and digits)", *p.HostedZoneID))
	}
	if p.HostedZoneName == nil || *p.HostedZoneName == "" {
		errs = append(errs, errors.New("hostedZoneName: required (the name of the Route53 hosted zone that holds the domain)"))
	} else if err := validateDomain("hostedZoneName", strings.TrimSuffix(*p.HostedZoneName, ".")); err != nil {
		errs = append(errs, err)
	} else if domainOK {
		zone := strings.TrimSuffix(*p.HostedZoneName, ".")
		if *p.Domain != zone && !strings.HasSuffix(*p.Domain, "."+zone) {
			errs = append(errs, fmt.Errorf("domain %q: must be the hosted zone %q or a subdomain of it", *p.Domain, zone))
		}
	}
	if p.FlowLogRetentionDays != nil {
		if err := logretention.Check("flowLogRetentionDays", *p.FlowLogRetentionDays); err != nil {
			errs = append(errs, err)
		}
	}
	if p.AccessLogRetentionDays != nil && (*p.AccessLogRetentionDays < 1 || *p.AccessLogRetentionDays > 3650) {
		errs = append(errs, fmt.Errorf("accessLogRetentionDays %d: must be between 1 and 3650", *p.AccessLogRetentionDays))
	}
	if p.Ec2Capacity != nil {
		errs = append(errs, p.Ec2Capacity.validate()...)
	}
	return errors.Join(errs...)
}

func (e *Ec2CapacityProps) validate() []error {
	var errs []error
	if e.InstanceType == nil || !instanceTypeRe.MatchString(*e.InstanceType) {
		errs = append(errs, fmt.Errorf("ec2Capacity.instanceType %q: must be an EC2 instance type like t4g.medium", deref(e.InstanceType)))
	}
	lo, hi := e.minMax()
	if lo < 0 || lo > 100 {
		errs = append(errs, fmt.Errorf("ec2Capacity.minCapacity %d: must be between 0 and 100", lo))
	}
	if hi < 1 || hi > 100 {
		errs = append(errs, fmt.Errorf("ec2Capacity.maxCapacity %d: must be between 1 and 100", hi))
	} else if hi < lo {
		errs = append(errs, fmt.Errorf("ec2Capacity.maxCapacity %d: must be at least minCapacity (%d)", hi, lo))
	}
	return errs
}

func (e *Ec2CapacityProps) minMax() (int, int) {
	lo := 1
	if e.MinCapacity != nil {
		lo = *e.MinCapacity
	}
	hi := max(3, lo)
	if e.MaxCapacity != nil {
		hi = *e.MaxCapacity
	}
	return lo, hi
}

func (p *ClusterProps) prefix() string {
	if p.Prefix == nil {
		return contract.DefaultPrefix
	}
	return *p.Prefix
}

func (p *ClusterProps) cidr() string {
	if p.Cidr == nil {
		return DefaultCidr
	}
	return *p.Cidr
}

func (p *ClusterProps) flowLogRetention() awslogs.RetentionDays {
	if p.FlowLogRetentionDays == nil {
		r, _ := logretention.Lookup(DefaultFlowLogRetentionDays)
		return r
	}
	r, _ := logretention.Lookup(*p.FlowLogRetentionDays) // validated
	return r
}

func (p *ClusterProps) accessLogRetentionDays() int {
	if p.AccessLogRetentionDays == nil {
		return DefaultAccessLogRetentionDays
	}
	return *p.AccessLogRetentionDays
}

// subnetMask validates the CIDR and returns the mask of its subnets: the
// VPC is cut into 8 blocks (mask + 3), so a /24 VPC still gets /27 subnets,
// the smallest an Application Load Balancer accepts.
func (p *ClusterProps) subnetMask() (int, error) {
	cidr := p.cidr()
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil || !prefix.Addr().Is4() {
		return 0, fmt.Errorf("cidr %q: must be an IPv4 CIDR like 10.100.0.0/16", cidr)
	}
	if prefix.Masked() != prefix {
		return 0, fmt.Errorf("cidr %q: host bits must be zero (did you mean %s?)", cidr, prefix.Masked())
	}
	if prefix.Bits() < 16 || prefix.Bits() > 24 {
		return 0, fmt.Errorf("cidr %q: mask must be between /16 and /24", cidr)
	}
	private := false
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		if netip.MustParsePrefix(r).Contains(prefix.Addr()) {
			private = true
		}
	}
	if !private {
		return 0, fmt.Errorf("cidr %q: must be inside a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)", cidr)
	}
	return prefix.Bits() + 3, nil
}

func validateDomain(field, d string) error {
	if d != strings.ToLower(d) {
		return fmt.Errorf("%s %q: must be lowercase", field, d)
	}
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return fmt.Errorf("%s %q: must be a DNS name with at least two labels, like apps.example.com", field, d)
	}
	for _, l := range labels {
		if !labelRe.MatchString(l) {
			return fmt.Errorf("%s %q: label %q must be 1-63 characters of lowercase letters, digits and hyphens, not starting or ending with a hyphen", field, d, l)
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
