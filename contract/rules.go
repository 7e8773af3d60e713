package contract

import (
	"regexp"
	"strings"
)

// DefaultPrefix is the resource prefix when none is given.
const DefaultPrefix = "wharf"

// Length limits of the names users choose. Each is derived from the AWS
// limits of the names built from it; contract_limits_test.go checks every
// derived name of the longest legal inputs against its AWS limit.
const (
	// MaxPrefixLength bounds the prefix so that the management role
	// <prefix>-app-<app>-management (16 characters besides prefix and app)
	// of a 30-character app stays within IAM's 64 characters for a role
	// name, and the database manager function
	// <prefix>-database-<db>-manager (18 besides prefix and db) of a
	// 30-character database within Lambda's 64 for a function name.
	MaxPrefixLength = 16
	// MaxClusterNameLength bounds cluster names.
	MaxClusterNameLength = 20
	// MaxAppNameLength bounds app names (see also MaxAppNameLengthFor).
	MaxAppNameLength = 30
	// MaxDatabaseNameLength bounds database names.
	MaxDatabaseNameLength = 30
	// MaxRedisNameLength bounds Redis names so that the replication group
	// ID <prefix>-<redis> of the longest prefix fits ElastiCache's 40
	// characters.
	MaxRedisNameLength = ElastiCacheIDLimit - MaxPrefixLength - len("-")
	// MaxProcessNameLength bounds process type names.
	MaxProcessNameLength = 16
	// MaxScheduleNameCap is the longest schedule name under any prefix and
	// app; MaxScheduleNameLength gives the bound for one prefix and app.
	MaxScheduleNameCap = 32
	// MinScheduleNameLength is the room for schedule names that every app
	// name must leave under its prefix: len(prefix)+len(app) is at most
	// RuleNameLimit - len("-_schedule-") - MinScheduleNameLength, so an app
	// can always have schedules named with 16 characters.
	MinScheduleNameLength = 16
	// MaxConfigVarLength bounds config var names so that the parameter
	// /<prefix>/apps/<app>/config/<VAR> of the longest prefix and app fits
	// SSM's 1011 characters for a parameter name.
	MaxConfigVarLength = SSMParameterNameLimit - (len("/") + MaxPrefixLength + len("/apps/") + MaxAppNameLength + len("/config/"))
)

// AWS limits the name rules are derived from (each cited in
// contract_limits_test.go).
const (
	// RuleNameLimit is EventBridge's limit on a rule name.
	RuleNameLimit = 64
	// SSMParameterNameLimit is SSM's limit on a parameter name.
	SSMParameterNameLimit = 1011
	// IAMRoleNameLimit is IAM's limit on a role name.
	IAMRoleNameLimit = 64
	// LambdaFunctionNameLimit is Lambda's limit on a function name.
	LambdaFunctionNameLimit = 64
	// ElastiCacheIDLimit is ElastiCache's limit on a replication group ID
	// (CreateReplicationGroup: "A name must contain from 1 to 40
	// alphanumeric characters or hyphens").
	ElastiCacheIDLimit = 40
)

var (
	// prefixRE: a lowercase letter, then lowercase letters and digits.
	prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	// nameRE is the rule of cluster, app and database names: lowercase
	// letters, digits and single hyphens, a letter first, no hyphen last.
	nameRE        = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	processRE     = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	scheduleRE    = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	expressionRE  = regexp.MustCompile(`^(cron\([^()]+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$`)
	configVarRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	accountIDRE   = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	externalIDRE  = regexp.MustCompile(`^[A-Za-z0-9+=,.@:/_-]+$`)
	roleARNRE     = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::([0-9]{12}):role/(.+)$`)
	reservedProcs = map[string]string{ReleaseProcess: "the release task's family <prefix>-<app>_release, which also runs the schedules"}
)

// Patterns of the name rules, for messages and documentation.
const (
	PrefixPattern    = `^[a-z][a-z0-9]*$`
	NamePattern      = `^[a-z][a-z0-9-]*[a-z0-9]$`
	ProcessPattern   = `^[a-z][a-z0-9]*$`
	SchedulePattern  = `^[a-z]([a-z0-9-]*[a-z0-9])?$`
	ConfigVarPattern = `^[A-Za-z_][A-Za-z0-9_]*$`
)

// ValidatePrefix checks a Wharf resource prefix: 1-16 characters, a
// lowercase letter followed by lowercase letters and digits. The error is a
// *FieldError for field "prefix".
//
// The prefix has no hyphen so that every name <prefix>-<rest> splits at
// its first hyphen: with hyphens, prefix "acme" and app "co-api" would give
// the same ECS family, service, CodeBuild project and IAM wildcard
// (acme-co-api_web, acme-co-api_*) as prefix "acme-co" and app "api", and
// the IAM patterns <prefix>-app-*-management and <prefix>-<app>_* that
// scope one installation's policies would match another installation's
// resources in the same account. The length bound is MaxPrefixLength's.
func ValidatePrefix(prefix string) error {
	switch {
	case prefix == "":
		return Errorf("prefix", RuleRequired, "is required: 1-%d characters, a lowercase letter then lowercase letters or digits (default %q)", MaxPrefixLength, DefaultPrefix)
	case len(prefix) > MaxPrefixLength:
		return Errorf("prefix", RuleLength, "%q is %d characters; at most %d are allowed so that role and function names fit AWS's 64 characters", prefix, len(prefix), MaxPrefixLength)
	case !prefixRE.MatchString(prefix):
		return Errorf("prefix", RulePattern, "%q must be a lowercase letter followed by lowercase letters or digits (%s); no hyphen, so that <prefix>-<name> names of two prefixes never overlap", prefix, PrefixPattern)
	}
	return nil
}

// validateName applies the rule shared by cluster, app and database names.
func validateName(field, kind, name string, maxLen int) error {
	switch {
	case name == "":
		return Errorf(field, RuleRequired, "is required: a %s name of 2-%d lowercase letters, digits and single hyphens", kind, maxLen)
	case len(name) < 2 || len(name) > maxLen:
		return Errorf(field, RuleLength, "%q is %d characters; %s names have 2-%d characters", name, len(name), kind, maxLen)
	case !nameRE.MatchString(name) || strings.Contains(name, "--"):
		return Errorf(field, RulePattern, "%q must be lowercase letters, digits and single hyphens, a letter first and no hyphen last (%s, no \"--\")", name, NamePattern)
	}
	return nil
}

// ValidateClusterName checks a cluster name: 2-20 characters of lowercase
// letters, digits and single hyphens, a letter first, no hyphen last.
func ValidateClusterName(name string) error {
	return validateName("name", "cluster", name, MaxClusterNameLength)
}

// ValidateDatabaseName checks a database name: 2-30 characters of
// lowercase letters, digits and single hyphens, a letter first, no hyphen
// last.
func ValidateDatabaseName(name string) error {
	return validateName("name", "database", name, MaxDatabaseNameLength)
}

// ValidateRedisName checks a Redis name: 2-23 characters of lowercase
// letters, digits and single hyphens, a letter first, no hyphen last.
func ValidateRedisName(name string) error {
	return validateName("name", "redis", name, MaxRedisNameLength)
}

// ValidateAppName checks the shape of an app name alone: 2-30 characters
// of lowercase letters, digits and single hyphens, a letter first, no
// hyphen last. App names have no "_", which keeps the IAM patterns
// <prefix>-<app>_* exact. Where the prefix is known use
// Names.ValidateApp, which also bounds prefix and app together.
func ValidateAppName(name string) error {
	return validateName("name", "app", name, MaxAppNameLength)
}

// MaxAppNameLengthFor is the longest app name under prefix: 30, or less
// for a long prefix so that the app's schedule rules
// <prefix>-<app>_schedule-<name> leave MinScheduleNameLength characters
// for schedule names within EventBridge's 64.
func MaxAppNameLengthFor(prefix string) int {
	return min(MaxAppNameLength, RuleNameLimit-len("-_schedule-")-MinScheduleNameLength-len(prefix))
}

// ValidateApp checks an app name under n's prefix: ValidateAppName, and at
// most MaxAppNameLengthFor(prefix) characters.
func (n Names) ValidateApp(app string) error {
	if err := ValidateAppName(app); err != nil {
		return err
	}
	if max := MaxAppNameLengthFor(n.Prefix); len(app) > max {
		return Errorf("name", RuleLength, "%q is %d characters; under prefix %q an app name has at most %d, so that schedule rules %s-<app>_schedule-<name> leave %d characters for schedule names within EventBridge's %d",
			app, len(app), n.Prefix, max, n.Prefix, MinScheduleNameLength, RuleNameLimit)
	}
	return nil
}

// ValidateProcessName checks a process type: 1-16 characters, a lowercase
// letter then lowercase letters or digits, and not "release".
func ValidateProcessName(name string) error {
	switch {
	case name == "":
		return Errorf("process", RuleRequired, "is required")
	case len(name) > MaxProcessNameLength:
		return Errorf("process", RuleLength, "%q is %d characters; at most %d are allowed", name, len(name), MaxProcessNameLength)
	case !processRE.MatchString(name):
		return Errorf("process", RulePattern, "%q must be a lowercase letter then lowercase letters or digits (%s)", name, ProcessPattern)
	case reservedProcs[name] != "":
		return Errorf("process", RuleReserved, "%q is reserved: it names %s", name, reservedProcs[name])
	}
	return nil
}

// MaxScheduleNameLength is the longest schedule name an app may use under
// prefix: the rule name <prefix>-<app>_schedule-<name> must fit
// EventBridge's 64 characters, and no schedule name exceeds
// MaxScheduleNameCap. For a valid prefix and app (Names.ValidateApp) it is
// at least MinScheduleNameLength.
func MaxScheduleNameLength(prefix, app string) int {
	return min(MaxScheduleNameCap, RuleNameLimit-len(prefix)-len("-")-len(app)-len("_schedule-"))
}

// ValidateScheduleName checks the name of a schedule of app under n's
// prefix: 1 to MaxScheduleNameLength(prefix, app) characters of lowercase
// letters, digits and single hyphens, a letter first, no hyphen last.
func (n Names) ValidateScheduleName(app, name string) error {
	max := MaxScheduleNameLength(n.Prefix, app)
	switch {
	case name == "":
		return Errorf("name", RuleRequired, "is required")
	case len(name) > max:
		return Errorf("name", RuleLength, "%q is %d characters; app %s under prefix %s allows at most %d, so that the rule name %s fits EventBridge's %d characters",
			name, len(name), app, n.Prefix, max, n.ScheduleRule(app, "<name>"), RuleNameLimit)
	case !scheduleRE.MatchString(name) || strings.Contains(name, "--"):
		return Errorf("name", RulePattern, "%q must be lowercase letters, digits and single hyphens, a letter first and no hyphen last (%s, no \"--\")", name, SchedulePattern)
	}
	return nil
}

// ValidateScheduleExpression checks a schedule expression: cron(...) or
// rate(<n> <unit>) with unit minute(s), hour(s) or day(s).
func ValidateScheduleExpression(expr string) error {
	if !expressionRE.MatchString(expr) {
		return Errorf("schedule", RulePattern, "%q must be cron(...) or rate(<n> minute|minutes|hour|hours|day|days)", expr)
	}
	return nil
}

// ValidateConfigVar checks a config var name: an environment variable name
// (letters, digits and "_", not starting with a digit) of at most
// MaxConfigVarLength characters.
func ValidateConfigVar(name string) error {
	switch {
	case name == "":
		return Errorf("name", RuleRequired, "is required")
	case len(name) > MaxConfigVarLength:
		return Errorf("name", RuleLength, "is %d characters; at most %d are allowed", len(name), MaxConfigVarLength)
	case !configVarRE.MatchString(name):
		return Errorf("name", RulePattern, "%q must be an environment variable name: letters, digits and _, not starting with a digit (%s)", name, ConfigVarPattern)
	}
	return nil
}

// ValidateAccountID checks a 12-digit AWS account ID.
func ValidateAccountID(id string) error {
	switch {
	case id == "":
		return Errorf("accountId", RuleRequired, "is required: a 12-digit AWS account ID")
	case !accountIDRE.MatchString(id):
		return Errorf("accountId", RulePattern, "%q must be a 12-digit AWS account ID", id)
	}
	return nil
}

// ValidateRegion checks the shape of an AWS region name (eu-west-1).
func ValidateRegion(region string) error {
	switch {
	case region == "":
		return Errorf("region", RuleRequired, "is required: an AWS region name like eu-west-1")
	case !regionRE.MatchString(region):
		return Errorf("region", RulePattern, "%q must be an AWS region name like eu-west-1", region)
	}
	return nil
}

// ValidateExternalID applies the sts:AssumeRole rule for external IDs:
// 2-1224 characters of letters, digits and +=,.@:/_-.
func ValidateExternalID(id string) error {
	switch {
	case id == "":
		return Errorf("externalId", RuleRequired, "must not be empty: the role trusts the control plane only with an external ID")
	case len(id) < 2 || len(id) > 1224 || !externalIDRE.MatchString(id):
		return Errorf("externalId", RulePattern, "must be 2-1224 characters of letters, digits and +=,.@:/_- (got %d characters)", len(id))
	}
	return nil
}

// ParseRoleARN splits an IAM role ARN into partition, account and role
// name (with any path).
func ParseRoleARN(arn string) (partition, account, name string, ok bool) {
	m := roleARNRE.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// checkRoleARN checks that arn is exactly the role wantName in account.
func checkRoleARN(field, arn, account, wantName string) error {
	partition, acct, name, ok := ParseRoleARN(arn)
	if !ok {
		return Errorf(field, RulePattern, "%q is not an IAM role ARN (want arn:aws:iam::%s:role/%s)", arn, account, wantName)
	}
	if acct != account || name != wantName {
		return Errorf(field, RuleMismatch, "%q must be %s (the Wharf naming convention)", arn, RoleARN(partition, account, wantName))
	}
	return nil
}
