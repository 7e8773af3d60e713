package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wharf-paas/wharf/contract"
)

// Repository types and launch types.
const (
	RepositoryGitHub    = "github"
	RepositoryBitbucket = "bitbucket"
	LaunchTypeFargate   = "fargate"
	LaunchTypeEC2       = "ec2"
)

// Limits enforced by Validate.
const (
	MaxPrefixLength      = contract.MaxPrefixLength
	MaxClusterNameLength = contract.MaxClusterNameLength
	MaxAppNameLength     = contract.MaxAppNameLength
	MaxDatabaseNameLen   = contract.MaxDatabaseNameLength
	MaxAppDomains        = contract.ALBConditionValuesPerRule - 1
	MinCIDRPrefixLength  = 16
	MaxCIDRPrefixLength  = 24
	AvailabilityZoneN    = 3
	MaxEC2Capacity       = 100
	MaxDomainLength      = 200
)

// LogRetentionDays are the retention periods CloudWatch Logs accepts.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// FieldError is one problem in a config, at a field path such as
// apps[1].name.
type FieldError struct {
	// Path is the field path, e.g. "clusters[0].cidr".
	Path string
	// Msg says what is wrong and what is allowed.
	Msg string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Msg }

// Errors is every problem found in a config, in file order.
type Errors []FieldError

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

func (e *Errors) add(path, format string, args ...any) {
	*e = append(*e, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (e Errors) err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

var (
	labelRE         = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	zoneIDRE        = regexp.MustCompile(`^Z[A-Z0-9]{1,32}$`)
	instanceTypeRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	busArnRE        = regexp.MustCompile(`^arn:(aws[a-z-]*):events:([a-z0-9-]+):([0-9]{12}):event-bus/[A-Za-z0-9._-]{1,256}$`)
	connectionRE    = regexp.MustCompile(`^arn:aws[a-z-]*:(codeconnections|codestar-connections):([a-z0-9-]+):[0-9]{12}:connection/[0-9a-f-]{36}$`)
	buildConfigRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	pinnedBuilderRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$`)
	policyArnRE     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@/_-]{1,512}$`)
	emailRE         = regexp.MustCompile(`^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$`)
	clientIDRE      = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	thumbprintRE    = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	qualifierRE     = regexp.MustCompile(`^[a-z0-9]{1,10}$`)
	engineRE        = regexp.MustCompile(`^([0-9]+)\.[0-9]+$`)
	instanceClsRE   = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	healthPathRE    = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$`)
)

// Validate checks the whole config (after ApplyDefaults) and returns every
// problem found as Errors, or nil. Nothing is built from a config that
// fails.
func (p *Platform) Validate() error {
	var e Errors
	p.validateTop(&e)
	p.validateControlPlane(&e)
	p.validateAccount(&e)
	clusters := p.validateClusters(&e)
	databases := p.validateDatabases(&e, clusters)
	p.validateApps(&e, clusters, databases)
	p.validateRedis(&e, clusters)
	p.validateLoadBalancerQuotas(&e, clusters)
	p.validateWildcards(&e)
	p.validateDashboard(&e)
	return e.err()
}

func (p *Platform) validateTop(e *Errors) {
	if err := contract.ValidatePrefix(p.Prefix); err != nil {
		e.add("prefix", "%s", contract.AsFieldError(err).Msg)
	}
	checkAccountID(e, "accountId", p.AccountID)
	regionOK := checkRegion(e, "region", p.Region)
	if len(p.AvailabilityZones) != AvailabilityZoneN {
		e.add("availabilityZones", "%d zones given, exactly %d are required (clusters span three zones)", len(p.AvailabilityZones), AvailabilityZoneN)
	}
	seen := map[string]int{}
	for i, az := range p.AvailabilityZones {
		path := fmt.Sprintf("availabilityZones[%d]", i)
		if regionOK && !(len(az) == len(p.Region)+1 && strings.HasPrefix(az, p.Region) && az[len(az)-1] >= 'a' && az[len(az)-1] <= 'z') {
			e.add(path, "%q must be a zone of region %s: the region name followed by one letter, e.g. %sa", az, p.Region, p.Region)
		}
		if j, dup := seen[az]; dup {
			e.add(path, "%q is listed twice (also availabilityZones[%d])", az, j)
		}
		seen[az] = i
	}
}

func (p *Platform) validateControlPlane(e *Errors) {
	cp := p.ControlPlane
	// A value derived from an invalid field is reported at that field only.
	var acctOK, regionOK bool
	if p.derived["controlPlane.accountId"] {
		acctOK = contract.ValidateAccountID(cp.AccountID) == nil
	} else {
		acctOK = checkAccountID(e, "controlPlane.accountId", cp.AccountID)
	}
	if p.derived["controlPlane.region"] {
		regionOK = contract.ValidateRegion(cp.Region) == nil
	} else {
		regionOK = checkRegion(e, "controlPlane.region", cp.Region)
	}
	if m := busArnRE.FindStringSubmatch(cp.EventBusArn); p.derived["controlPlane.eventBusArn"] && (!acctOK || !regionOK) {
		// reported at the account or region it was derived from
	} else if m == nil {
		e.add("controlPlane.eventBusArn", "%q must be an event bus ARN: arn:aws:events:<region>:<account>:event-bus/<name>", cp.EventBusArn)
	} else {
		if acctOK && m[3] != cp.AccountID {
			e.add("controlPlane.eventBusArn", "%q must be in the control plane account %s", cp.EventBusArn, cp.AccountID)
		}
		if regionOK && m[2] != cp.Region {
			e.add("controlPlane.eventBusArn", "%q must be in the control plane region %s", cp.EventBusArn, cp.Region)
		}
	}
	if cp.Deploy != nil && *cp.Deploy && (cp.AccountID != p.AccountID || cp.Region != p.Region) {
		e.add("controlPlane.deploy", "true needs the control plane in this platform's account and region (%s, %s); deploy a separate control plane with apps/controlplane instead", p.AccountID, p.Region)
	}
	if cp.AlarmEmail != "" && !emailRE.MatchString(cp.AlarmEmail) {
		e.add("controlPlane.alarmEmail", "%q is not an email address", cp.AlarmEmail)
	}
}

func (p *Platform) validateAccount(e *Errors) {
	a := p.Account
	if msg := checkIssuer(a.OIDCIssuerURL); msg != "" {
		e.add("account.oidcIssuerUrl", "%q %s", a.OIDCIssuerURL, msg)
	}
	if len(a.OIDCClientIDs) == 0 {
		e.add("account.oidcClientIds", "at least one client ID is required")
	}
	if len(a.OIDCClientIDs) > 100 {
		e.add("account.oidcClientIds", "%d client IDs given, IAM allows at most 100", len(a.OIDCClientIDs))
	}
	seen := map[string]int{}
	for i, id := range a.OIDCClientIDs {
		path := fmt.Sprintf("account.oidcClientIds[%d]", i)
		if !clientIDRE.MatchString(id) {
			e.add(path, "%q must be 1-255 printable characters without spaces", id)
		}
		if j, dup := seen[id]; dup {
			e.add(path, "%q is listed twice (also account.oidcClientIds[%d])", id, j)
		}
		seen[id] = i
	}
	if len(a.OIDCThumbprints) > 5 {
		e.add("account.oidcThumbprints", "%d thumbprints given, IAM allows at most 5", len(a.OIDCThumbprints))
	}
	for i, tp := range a.OIDCThumbprints {
		if !thumbprintRE.MatchString(tp) {
			e.add(fmt.Sprintf("account.oidcThumbprints[%d]", i), "%q must be 40 hexadecimal digits (a SHA-1 thumbprint)", tp)
		}
	}
	if len(a.Administrators) == 0 {
		e.add("account.administrators", "at least one administrator email is required")
	}
	checkEmails(e, "account.administrators", a.Administrators)
	if !validExternalID(a.ObserverExternalID) {
		e.add("account.observerExternalId", "%s", externalIDMsg(a.ObserverExternalID))
	}
	if !qualifierRE.MatchString(a.CdkBootstrapQualifier) {
		e.add("account.cdkBootstrapQualifier", "%q must be 1-10 lowercase letters or digits", a.CdkBootstrapQualifier)
	}
}

func (p *Platform) validateClusters(e *Errors) map[string]*Cluster {
	byName := map[string]*Cluster{}
	if len(p.Clusters) == 0 {
		e.add("clusters", "at least one cluster is required")
	}
	index := map[string]int{}
	for i := range p.Clusters {
		c := &p.Clusters[i]
		path := fmt.Sprintf("clusters[%d]", i)
		if checkName(e, path+".name", contract.ValidateClusterName(c.Name)) {
			if j, dup := index[c.Name]; dup {
				e.add(path+".name", "%q is already the name of clusters[%d]; cluster names must be unique", c.Name, j)
			} else {
				index[c.Name] = i
				byName[c.Name] = c
			}
		}
		checkCIDR(e, path+".cidr", c.CIDR)
		domainOK := checkDomain(e, path+".domain", c.Domain, true)
		zoneName := strings.TrimSuffix(c.HostedZone.Name, ".")
		if c.HostedZone == (HostedZone{}) {
			e.add(path+".hostedZone", "is required: the id and name of the public hosted zone of %q (no lookups are made at synth)", c.Domain)
		} else if c.HostedZone.ID == "" {
			e.add(path+".hostedZone.id", "is required: the ID of the public hosted zone of %q (no lookups are made at synth)", c.Domain)
		} else if !zoneIDRE.MatchString(c.HostedZone.ID) {
			e.add(path+".hostedZone.id", "%q must be a Route53 hosted zone ID like Z0123456789ABCDEFGHIJ", c.HostedZone.ID)
		}
		if c.HostedZone == (HostedZone{}) {
			// reported above
		} else if c.HostedZone.Name == "" {
			e.add(path+".hostedZone.name", "is required: the domain name of hosted zone %q", c.HostedZone.ID)
		} else if checkDomain(e, path+".hostedZone.name", zoneName, false) && domainOK &&
			c.Domain != zoneName && !strings.HasSuffix(c.Domain, "."+zoneName) {
			e.add(path+".domain", "%q must be %s or a subdomain of it (the hosted zone name)", c.Domain, zoneName)
		}
		checkRetention(e, path+".flowLogRetentionDays", c.FlowLogRetentionDays)
		if c.AccessLogRetentionDays < 1 || c.AccessLogRetentionDays > 3650 {
			e.add(path+".accessLogRetentionDays", "%d must be between 1 and 3650", c.AccessLogRetentionDays)
		}
		if c.EC2 != nil {
			if !instanceTypeRE.MatchString(c.EC2.InstanceType) {
				e.add(path+".ec2.instanceType", "%q must be an EC2 instance type like t4g.medium", c.EC2.InstanceType)
			}
			lo, hi := deref(c.EC2.MinCapacity), deref(c.EC2.MaxCapacity)
			if lo < 0 || lo > MaxEC2Capacity {
				e.add(path+".ec2.minCapacity", "%d must be between 0 and %d", lo, MaxEC2Capacity)
			}
			if hi < 1 || hi > MaxEC2Capacity {
				e.add(path+".ec2.maxCapacity", "%d must be between 1 and %d", hi, MaxEC2Capacity)
			} else if hi < lo {
				e.add(path+".ec2.maxCapacity", "%d must not be below minCapacity %d", hi, lo)
			}
		}
	}
	return byName
}

func (p *Platform) validateDatabases(e *Errors, clusters map[string]*Cluster) map[string]*Database {
	byName := map[string]*Database{}
	index := map[string]int{}
	for i := range p.Databases {
		d := &p.Databases[i]
		path := fmt.Sprintf("databases[%d]", i)
		if checkName(e, path+".name", contract.ValidateDatabaseName(d.Name)) {
			if j, dup := index[d.Name]; dup {
				e.add(path+".name", "%q is already the name of databases[%d]; database names must be unique", d.Name, j)
			} else {
				index[d.Name] = i
				byName[d.Name] = d
			}
		}
		checkClusterRef(e, path+".cluster", d.Cluster, clusters)
		if m := engineRE.FindStringSubmatch(d.EngineVersion); m == nil {
			e.add(path+".engineVersion", "%q must be an Aurora PostgreSQL version major.minor, e.g. 16.6", d.EngineVersion)
		} else if major, _ := strconv.Atoi(m[1]); major < 15 {
			e.add(path+".engineVersion", "%q is too old: Aurora PostgreSQL 15 or later is required (before 15 every role may create objects in template1's public schema)", d.EngineVersion)
		}
		if !instanceClsRE.MatchString(d.InstanceClass) {
			e.add(path+".instanceClass", "%q must be a DB instance class like db.t4g.medium", d.InstanceClass)
		} else if strings.HasPrefix(d.InstanceClass, "db.serverless") {
			e.add(path+".instanceClass", "%q: Aurora Serverless is not supported; use a provisioned class like db.t4g.medium", d.InstanceClass)
		}
		if d.BackupRetentionDays < 1 || d.BackupRetentionDays > 35 {
			e.add(path+".backupRetentionDays", "%d must be between 1 and 35", d.BackupRetentionDays)
		}
		checkRetention(e, path+".logRetentionDays", d.LogRetentionDays)
	}
	return byName
}

func (p *Platform) validateApps(e *Errors, clusters map[string]*Cluster, databases map[string]*Database) {
	cn := contract.Names{Prefix: p.Prefix}
	index := map[string]int{}
	hosts := map[string]string{}   // host name -> field path that claims it
	priorities := map[string]int{} // cluster/priority -> index of the app that has it
	for i := range p.Apps {
		a := &p.Apps[i]
		if c := clusters[a.Cluster]; c != nil && cn.ValidateApp(a.Name) == nil {
			hosts[a.Name+"."+c.Domain] = fmt.Sprintf("apps[%d] (its default host name)", i)
		}
	}
	for i := range p.Apps {
		a := &p.Apps[i]
		path := fmt.Sprintf("apps[%d]", i)
		if checkName(e, path+".name", cn.ValidateApp(a.Name)) {
			if j, dup := index[a.Name]; dup {
				e.add(path+".name", "%q is already the name of apps[%d]; app names must be unique", a.Name, j)
			} else {
				index[a.Name] = i
			}
		}
		cluster := checkClusterRef(e, path+".cluster", a.Cluster, clusters)
		checkRepository(e, path+".repository", a.Repository)
		if msg := checkBranch(a.Branch); msg != "" {
			e.add(path+".branch", "%q %s", a.Branch, msg)
		}
		p.validateAppDomains(e, path, a, cluster, hosts)
		hc := a.HealthCheck
		if len(hc.Path) > 1024 || !healthPathRE.MatchString(hc.Path) {
			e.add(path+".healthCheck.path", "%q must be an HTTP path starting with / (at most 1024 characters, no spaces)", hc.Path)
		}
		if hc.HealthyThreshold < 2 || hc.HealthyThreshold > 10 {
			e.add(path+".healthCheck.healthyThreshold", "%d must be between 2 and 10", hc.HealthyThreshold)
		}
		if hc.UnhealthyThreshold < 2 || hc.UnhealthyThreshold > 10 {
			e.add(path+".healthCheck.unhealthyThreshold", "%d must be between 2 and 10", hc.UnhealthyThreshold)
		}
		if hc.IntervalSeconds < 5 || hc.IntervalSeconds > 300 {
			e.add(path+".healthCheck.intervalSeconds", "%d must be between 5 and 300", hc.IntervalSeconds)
		}
		if hc.TimeoutSeconds < 2 || hc.TimeoutSeconds > 120 {
			e.add(path+".healthCheck.timeoutSeconds", "%d must be between 2 and 120", hc.TimeoutSeconds)
		} else if hc.TimeoutSeconds >= hc.IntervalSeconds {
			e.add(path+".healthCheck.timeoutSeconds", "%d must be shorter than intervalSeconds (%d); the load balancer rejects it otherwise", hc.TimeoutSeconds, hc.IntervalSeconds)
		}
		if a.ContainerPort < 1 || a.ContainerPort > 65535 {
			e.add(path+".containerPort", "%d must be between 1 and 65535", a.ContainerPort)
		}
		if a.Priority != nil && (*a.Priority < 1 || *a.Priority > 50000) {
			e.add(path+".priority", "%d must be between 1 and 50000", *a.Priority)
		}
		if a.ImagesToKeep < 1 || a.ImagesToKeep > 1000 {
			e.add(path+".imagesToKeep", "%d must be between 1 and 1000", a.ImagesToKeep)
		}
		if a.ArtifactRetentionDays < 1 || a.ArtifactRetentionDays > 3650 {
			e.add(path+".artifactRetentionDays", "%d must be between 1 and 3650", a.ArtifactRetentionDays)
		}
		if d := deref(a.DeregistrationDelaySeconds); d < 0 || d > 3600 {
			e.add(path+".deregistrationDelaySeconds", "%d must be between 0 and 3600", d)
		}
		checkRetention(e, path+".logRetentionDays", a.LogRetentionDays)
		switch a.LaunchType {
		case LaunchTypeFargate:
		case LaunchTypeEC2:
			if cluster != nil && cluster.EC2 == nil {
				e.add(path+".launchType", "ec2 needs EC2 capacity in cluster %q: add clusters[].ec2", cluster.Name)
			}
		default:
			e.add(path+".launchType", "%q must be %q or %q", a.LaunchType, LaunchTypeFargate, LaunchTypeEC2)
		}
		checkEmails(e, path+".allowedUsers", a.AllowedUsers)
		checkSubjects(e, path+".allowedSubjects", a.AllowedSubjects)
		checkEmailDomains(e, path+".allowedEmailDomains", a.AllowedEmailDomains)
		if issuer := p.Account.OIDCIssuerURL; checkIssuer(issuer) == "" && len(a.AllowedUsers)+len(a.AllowedSubjects)+len(a.AllowedEmailDomains) > 0 {
			// The app's user role has one trust statement for each form of
			// allowed user (and a deny with domains); IAM refuses the role at
			// deploy time when they exceed the trust policy quota.
			key := strings.TrimPrefix(issuer, "https://")
			if n := contract.UserTrustPolicySize(key, p.Account.OIDCClientIDs, a.AllowedUsers, a.AllowedSubjects, a.AllowedEmailDomains); n > contract.TrustPolicyDefaultLimit {
				all := append(append(append([]string(nil), a.AllowedUsers...), a.AllowedSubjects...), contract.EmailDomainPatterns(a.AllowedEmailDomains)...)
				e.add(path+".allowedUsers", "%s", contract.TrustPolicyError("allowedUsers, allowedSubjects and allowedEmailDomains", n, all))
			}
		}
		if j, ok := index[a.Name]; ok && j == i && (a.Priority == nil || (*a.Priority >= 1 && *a.Priority <= 50000)) {
			prio, how := contract.RulePriority(a.Name), "derived from its name"
			if a.Priority != nil {
				prio, how = *a.Priority, "set by priority"
			}
			k := a.Cluster + "/" + strconv.Itoa(prio)
			if j, taken := priorities[k]; taken {
				e.add(path+".priority", "app %q and app %q (apps[%d]) both get listener rule priority %d in cluster %q (%s); the load balancer needs a unique priority per rule: set priority on one of them to an unused value between %d and %d",
					a.Name, p.Apps[j].Name, j, prio, a.Cluster, how, contract.MinRulePriority, contract.MaxRulePriority)
			} else {
				priorities[k] = i
			}
		}
		if a.Database != "" {
			if db := databases[a.Database]; db == nil {
				e.add(path+".database", "%q is not a database of this config (databases: %s)", a.Database, names(p.Databases, func(d Database) string { return d.Name }))
			} else if cluster != nil && db.Cluster != a.Cluster {
				e.add(path+".database", "%q is in cluster %q but the app runs in cluster %q; an app can only reach a database of its own cluster", a.Database, db.Cluster, a.Cluster)
			}
		}
		seenBuildConfig := map[string]bool{}
		for j, n := range a.BuildConfig {
			switch {
			case !buildConfigRE.MatchString(n):
				e.add(fmt.Sprintf("%s.buildConfig[%d]", path, j), "%q must be a config var name (letters, digits and _, not starting with a digit)", n)
			case seenBuildConfig[n]:
				e.add(fmt.Sprintf("%s.buildConfig[%d]", path, j), "%q is listed twice", n)
			}
			seenBuildConfig[n] = true
		}
		for j, b := range a.TrustedBuilders {
			if !pinnedBuilderRE.MatchString(b) {
				e.add(fmt.Sprintf("%s.trustedBuilders[%d]", path, j), "%q must be pinned by digest: <name>[:<tag>]@sha256:<64 hex>", b)
			}
		}
		if a.TaskPolicyArn != "" && !policyArnRE.MatchString(a.TaskPolicyArn) {
			e.add(path+".taskPolicyArn", "%q must be an IAM managed policy ARN: arn:aws:iam::<account>:policy/<name>", a.TaskPolicyArn)
		}
		if !validExternalID(a.ManagementExternalID) {
			e.add(path+".managementExternalId", "%s", externalIDMsg(a.ManagementExternalID))
		}
	}
}

// validateRedis checks the redis section and the apps' redis fields.
func (p *Platform) validateRedis(e *Errors, clusters map[string]*Cluster) {
	byName := map[string]*Redis{}
	index := map[string]int{}
	for i := range p.Redis {
		r := &p.Redis[i]
		path := fmt.Sprintf("redis[%d]", i)
		if checkName(e, path+".name", contract.ValidateRedisName(r.Name)) {
			if j, dup := index[r.Name]; dup {
				e.add(path+".name", "%q is already the name of redis[%d]; redis names must be unique", r.Name, j)
			} else {
				index[r.Name] = i
				byName[r.Name] = r
			}
		}
		checkClusterRef(e, path+".cluster", r.Cluster, clusters)
		if checkName(e, path+".engine", contract.ValidateRedisEngine(r.Engine)) {
			checkName(e, path+".engineVersion", contract.ValidateRedisEngineVersion(r.Engine, r.EngineVersion))
		}
		checkName(e, path+".nodeType", contract.ValidateRedisNodeType(r.NodeType))
		if d := r.SnapshotRetentionDays; d != nil && (*d < 0 || *d > 35) {
			e.add(path+".snapshotRetentionDays", "%d must be between 0 and 35", *d)
		}
	}
	for i := range p.Apps {
		a := &p.Apps[i]
		if a.Redis == "" {
			continue
		}
		path := fmt.Sprintf("apps[%d].redis", i)
		r := byName[a.Redis]
		switch {
		case r == nil:
			e.add(path, "%q is not a redis of this config (redis: %s)", a.Redis, names(p.Redis, func(r Redis) string { return r.Name }))
		case clusters[a.Cluster] != nil && r.Cluster != a.Cluster:
			e.add(path, "%q is in cluster %q but the app runs in cluster %q; an app can only reach a redis of its own cluster", a.Redis, r.Cluster, a.Cluster)
		}
	}
}

func checkRetention(e *Errors, path string, days int) {
	if !slices.Contains(LogRetentionDays, days) {
		e.add(path, "%d is not a retention CloudWatch Logs accepts; use one of %v", days, LogRetentionDays)
	}
}

func checkAccountID(e *Errors, path, id string) bool {
	if contract.ValidateAccountID(id) != nil {
		if id == "" {
			e.add(path, "is required: a 12-digit AWS account ID")
		} else {
			e.add(path, "%q must be a 12-digit AWS account ID", id)
		}
		return false
	}
	return true
}

func checkRegion(e *Errors, path, region string) bool {
	if contract.ValidateRegion(region) != nil {
		if region == "" {
			e.add(path, "is required: an AWS region name like eu-west-1")
		} else {
			e.add(path, "%q must be an AWS region name like eu-west-1", region)
		}
		return false
	}
	return true
}

// checkName reports the error of a name rule of the contract package
// (cluster, app and database names) at path, and whether there was none.
func checkName(e *Errors, path string, err error) bool {
	if err == nil {
		return true
	}
	e.add(path, "%s", contract.AsFieldError(err).Msg)
	return false
}

func checkClusterRef(e *Errors, path, name string, clusters map[string]*Cluster) *Cluster {
	if name == "" {
		e.add(path, "is required: the name of one of the config's clusters")
		return nil
	}
	c := clusters[name]
	if c == nil {
		var all []string
		for n := range clusters {
			all = append(all, n)
		}
		slices.Sort(all)
		e.add(path, "%q is not a cluster of this config (clusters: %s)", name, strings.Join(all, ", "))
	}
	return c
}

func checkCIDR(e *Errors, path, cidr string) {
	ip, n, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		e.add(path, "%q must be an IPv4 CIDR block like 10.100.0.0/16", cidr)
		return
	}
	ones, _ := n.Mask.Size()
	if ones < MinCIDRPrefixLength || ones > MaxCIDRPrefixLength {
		e.add(path, "%q must have a prefix length between /%d and /%d (room for six subnets)", cidr, MinCIDRPrefixLength, MaxCIDRPrefixLength)
		return
	}
	if !ip.Equal(n.IP) {
		e.add(path, "%q has host bits set; did you mean %s?", cidr, n)
		return
	}
	for _, private := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		if _, r, _ := net.ParseCIDR(private); r.Contains(ip) {
			return
		}
	}
	e.add(path, "%q must be inside a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)", cidr)
}

// checkDomain checks a lowercase DNS name of at least two labels.
// roomForApp limits it to MaxDomainLength so <app>.<domain> still fits.
func checkDomain(e *Errors, path, domain string, roomForApp bool) bool {
	limit := 253
	if roomForApp {
		limit = MaxDomainLength
	}
	labels := strings.Split(domain, ".")
	ok := domain != "" && len(domain) <= limit && len(labels) >= 2
	for _, l := range labels {
		ok = ok && labelRE.MatchString(l)
	}
	if !ok {
		if domain == "" {
			e.add(path, "is required: a DNS name like apps.example.com")
		} else {
			e.add(path, "%q must be a lowercase DNS name of at least two labels (letters, digits, inner hyphens; at most %d characters)", domain, limit)
		}
	}
	return ok
}

func checkIssuer(issuer string) string {
	u, err := url.Parse(issuer)
	switch {
	case issuer == "":
		return "is required: the https URL of the OpenID Connect issuer"
	case err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "must be an https:// URL with a host and no query, fragment or credentials"
	case u.Port() != "":
		return "must not contain a port (IAM rejects ports)"
	case len(issuer) > 255:
		return "must be at most 255 characters"
	}
	return ""
}

// checkSubjects checks OIDC subject identifiers: 1-255 ASCII characters
// (OpenID Connect Core 1.0 section 2: "It MUST NOT exceed 255 ASCII
// characters in length"), printable, no spaces, each listed once.
func checkEmailDomains(e *Errors, path string, domains []string) {
	seen := map[string]int{}
	for i, d := range domains {
		p := fmt.Sprintf("%s[%d]", path, i)
		if err := contract.ValidateEmailDomain(d); err != nil {
			var fe *contract.FieldError
			if errors.As(err, &fe) {
				e.add(p, "%s", fe.Msg)
			} else {
				e.add(p, "%v", err)
			}
			continue
		}
		if j, dup := seen[d]; dup {
			e.add(p, "%q is listed twice (also %s[%d])", d, path, j)
		}
		seen[d] = i
	}
}

func checkSubjects(e *Errors, path string, subjects []string) {
	seen := map[string]int{}
	for i, sub := range subjects {
		p := fmt.Sprintf("%s[%d]", path, i)
		if sub == "" || len(sub) > 255 || strings.ContainsFunc(sub, func(r rune) bool { return r <= ' ' || r > '~' }) {
			e.add(p, "%q is not an OIDC subject (1-255 printable ASCII characters, no spaces)", sub)
			continue
		}
		if j, dup := seen[sub]; dup {
			e.add(p, "%q is listed twice (also %s[%d])", sub, path, j)
		}
		seen[sub] = i
	}
}

func checkEmails(e *Errors, path string, emails []string) {
	seen := map[string]int{}
	for i, email := range emails {
		p := fmt.Sprintf("%s[%d]", path, i)
		if len(email) > 254 || !emailRE.MatchString(email) {
			e.add(p, "%q is not an email address (name@domain.tld)", email)
			continue
		}
		lower := strings.ToLower(email)
		if j, dup := seen[lower]; dup {
			e.add(p, "%q is listed twice (also %s[%d]; emails compare case-insensitively)", email, path, j)
		}
		seen[lower] = i
	}
}

func checkRepository(e *Errors, path string, r Repository) {
	host := urlHost(r.URL)
	u, err := url.Parse(r.URL)
	switch {
	case r.URL == "":
		e.add(path+".url", "is required: the https clone URL of the app's repository")
	case err != nil || u.Scheme != "https" || host == "" || strings.Trim(u.Path, "/") == "" || u.User != nil:
		e.add(path+".url", "%q must be an https clone URL like https://github.com/owner/repo.git", r.URL)
	}
	switch r.Type {
	case RepositoryGitHub, RepositoryBitbucket:
	case "":
		if r.URL != "" && host != "" {
			e.add(path+".type", "cannot be told from host %q; set %q or %q", host, RepositoryGitHub, RepositoryBitbucket)
		}
	default:
		e.add(path+".type", "%q must be %q or %q", r.Type, RepositoryGitHub, RepositoryBitbucket)
	}
	if r.ConnectionArn != "" && !connectionRE.MatchString(r.ConnectionArn) {
		e.add(path+".connectionArn", "%q must be a CodeConnections connection ARN: arn:aws:codeconnections:<region>:<account>:connection/<id>", r.ConnectionArn)
	}
}

// checkBranch applies the rules of git check-ref-format that matter for a
// branch name in a config file.
func checkBranch(b string) string {
	switch {
	case b == "":
		return "is required"
	case len(b) > 255:
		return "must be at most 255 characters"
	case strings.ContainsAny(b, " ~^:?*[\\\t\n") || strings.Contains(b, "..") || strings.Contains(b, "@{") || strings.Contains(b, "//"):
		return "is not a valid git branch name (no spaces, ~ ^ : ? * [ \\, \"..\", \"@{\" or \"//\")"
	case strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".") || strings.HasSuffix(b, ".lock"):
		return "is not a valid git branch name (must not start with - or /, or end with /, . or .lock)"
	}
	return ""
}

func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func names[T any](items []T, name func(T) string) string {
	if len(items) == 0 {
		return "none"
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return strings.Join(out, ", ")
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// validExternalID applies the sts:AssumeRole rule for external IDs: 2-1224
// characters of letters, digits and +=,.@:/_-.
func validExternalID(id string) bool { return contract.ValidateExternalID(id) == nil }

// externalIDMsg explains why id is not a valid external ID: missing, or
// not 2-1224 allowed characters.
func externalIDMsg(id string) string {
	if id == "" {
		return "is required: 2-1224 characters of letters, digits and +=,.@:/_- (the role trusts the control plane only with it)"
	}
	return fmt.Sprintf("must be 2-1224 characters of letters, digits and +=,.@:/_- (got %d characters)", len(id))
}
