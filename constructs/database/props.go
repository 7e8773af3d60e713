package database

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/constructs/internal/lambdabuild"
	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/internal/logretention"
)

// Defaults used when a DatabaseProps field is nil.
const (
	// DefaultEngineVersion is the Aurora PostgreSQL version (major.minor).
	DefaultEngineVersion = "16.6"
	// DefaultInstanceClass is the DB instance class of every instance.
	DefaultInstanceClass = "db.t4g.medium"
	// DefaultBackupRetentionDays is how long automated backups are kept.
	DefaultBackupRetentionDays = 7
	// DefaultLogRetentionDays is the retention of the PostgreSQL log export
	// and of the manager Lambda's log group.
	DefaultLogRetentionDays = 30
)

// AdminUser is the Aurora master user. Its password is generated into
// Secrets Manager and used exactly once, by the enable-iam-auth action;
// after that the manager connects as AdminUser with IAM tokens only.
const AdminUser = "wharf_admin"

// PrebuildManager starts compiling the default manager Lambda
// (./lambda/dbmanager) in the background, so that the build overlaps
// whatever the app does before NewDatabase (starting the CDK's jsii kernel
// takes seconds); NewDatabase then waits for it. Optional: without it
// NewDatabase builds when it needs the code. Built binaries are cached by
// their inputs, so an unchanged manager is not linked again.
func PrebuildManager() { lambdabuild.Prebuild("dbmanager") }

// Port is the PostgreSQL port of every Wharf database.
const Port = 5432

// DatabaseProps configures a Database. Every field maps one-to-one to a
// database entry of the platform config file.
type DatabaseProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the Wharf name of the database: 2-30 characters of lowercase
	// letters, digits and single hyphens, starting with a letter and ending
	// with a letter or digit. It names the Aurora cluster
	// (<prefix>-<name>), the stack (<prefix>-database-<name>) and the SSM
	// path /<prefix>/databases/<name>/. Required.
	Name *string
	// Cluster is the Wharf cluster whose VPC (private subnets) the database
	// runs in and whose app security group may connect to it. The VPC's
	// private subnets must route S3 through a gateway endpoint (Wharf
	// clusters do): the manager Lambda answers CloudFormation through it.
	// Required.
	Cluster cluster.ICluster
	// EngineVersion is the Aurora PostgreSQL engine version, major.minor
	// (for example 16.6), major 15 or later: before 15 every role may
	// create objects in the public schema of template1 and postgres
	// (docs/dbmanager.md).
	// Default: "16.6".
	EngineVersion *string
	// InstanceClass is the DB instance class of the writer and the reader,
	// for example db.r7g.large.
	// Default: "db.t4g.medium".
	InstanceClass *string
	// MultiAZ adds a reader instance; Aurora places it in another
	// availability zone than the writer and fails over to it.
	// Default: false (writer only).
	MultiAZ *bool
	// BackupRetentionDays is how long automated backups are kept (1-35).
	// Default: 7.
	BackupRetentionDays *int
	// LogRetentionDays is the retention of the PostgreSQL log export and of
	// the manager Lambda's logs; one of the values CloudWatch Logs accepts.
	// Default: 30.
	LogRetentionDays *int
	// DeletionProtection keeps the Aurora cluster from being deleted (by
	// CloudFormation or anyone else) until it is turned off.
	// Default: true.
	DeletionProtection *bool
	// S3PrefixListId is the ID (pl-...) of the AWS-managed prefix list
	// com.amazonaws.<region>.s3, the only HTTPS destination the manager
	// needs besides the Secrets Manager endpoint: CloudFormation's
	// presigned response URLs, reached through the cluster's S3 gateway
	// endpoint. Find it with `aws ec2 describe-managed-prefix-lists
	// --filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3`.
	// Default: looked up at synth time (a CDK context lookup, cached in
	// cdk.context.json; it needs the stack's account and region and AWS
	// credentials the first time).
	S3PrefixListId *string
	// ManagerCode is the code of the database-manager Lambda.
	// Default: ./lambda/dbmanager of the Wharf module, compiled at synth
	// time (lambdabuild.Code("dbmanager")).
	ManagerCode awslambda.Code
}

var (
	engineVersionRe = regexp.MustCompile(`^([0-9]+)\.([0-9]+)$`)
	instanceClassRe = regexp.MustCompile(`^db\.([a-z][a-z0-9-]*\.[a-z0-9]+)$`)
	prefixListIDRe  = regexp.MustCompile(`^pl-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// Validate checks every field and returns all problems at once, each naming
// the field and the rule it breaks. NewDatabase panics with the same error.
func (p *DatabaseProps) Validate() error {
	if p == nil {
		return errors.New("database props: must not be nil")
	}
	var errs []error
	if err := contract.ValidatePrefix(p.prefix()); err != nil {
		errs = append(errs, err)
	}
	if p.Name == nil {
		errs = append(errs, errors.New("name: required"))
	} else if err := contract.ValidateDatabaseName(*p.Name); err != nil {
		errs = append(errs, err)
	}
	if p.Cluster == nil {
		errs = append(errs, errors.New("cluster: required (a live cluster.Cluster or cluster.FromName)"))
	}
	if m := engineVersionRe.FindStringSubmatch(p.engineVersion()); m == nil {
		errs = append(errs, fmt.Errorf("engineVersion %q: must be an Aurora PostgreSQL version major.minor, like 16.6", p.engineVersion()))
	} else if major, _ := strconv.Atoi(m[1]); major < 15 {
		errs = append(errs, fmt.Errorf("engineVersion %q: major version must be 15 or later (before 15 every role may create objects in template1's public schema)", p.engineVersion()))
	}
	if !instanceClassRe.MatchString(p.instanceClass()) {
		errs = append(errs, fmt.Errorf("instanceClass %q: must be a DB instance class like db.t4g.medium", p.instanceClass()))
	} else if strings.HasPrefix(p.instanceClass(), "db.serverless") {
		errs = append(errs, fmt.Errorf("instanceClass %q: Aurora Serverless is not supported; use a provisioned class like db.t4g.medium", p.instanceClass()))
	}
	if d := p.backupRetentionDays(); d < 1 || d > 35 {
		errs = append(errs, fmt.Errorf("backupRetentionDays %d: must be between 1 and 35", d))
	}
	if err := logretention.Check("logRetentionDays", p.logRetentionDays()); err != nil {
		errs = append(errs, err)
	}
	if id := p.S3PrefixListId; id != nil && !*awscdk.Token_IsUnresolved(id) && !prefixListIDRe.MatchString(*id) {
		errs = append(errs, fmt.Errorf("s3PrefixListId %q: must be a prefix list ID, pl- and 8 or 17 hexadecimal digits", *id))
	}
	return errors.Join(errs...)
}

func (p *DatabaseProps) prefix() string {
	if p.Prefix == nil {
		return contract.DefaultPrefix
	}
	return *p.Prefix
}

func (p *DatabaseProps) engineVersion() string {
	if p.EngineVersion == nil {
		return DefaultEngineVersion
	}
	return *p.EngineVersion
}

func (p *DatabaseProps) instanceClass() string {
	if p.InstanceClass == nil {
		return DefaultInstanceClass
	}
	return *p.InstanceClass
}

func (p *DatabaseProps) backupRetentionDays() int {
	if p.BackupRetentionDays == nil {
		return DefaultBackupRetentionDays
	}
	return *p.BackupRetentionDays
}

func (p *DatabaseProps) logRetentionDays() int {
	if p.LogRetentionDays == nil {
		return DefaultLogRetentionDays
	}
	return *p.LogRetentionDays
}

func (p *DatabaseProps) deletionProtection() bool {
	return p.DeletionProtection == nil || *p.DeletionProtection
}

func (p *DatabaseProps) multiAZ() bool {
	return p.MultiAZ != nil && *p.MultiAZ
}
