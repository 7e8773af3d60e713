package database

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/contract"
)

// FromNameProps names the database FromName refers to.
type FromNameProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the Wharf name of the database. Required.
	Name *string
}

// Validate checks the props; FromName panics with the same error.
func (p *FromNameProps) Validate() error {
	if p == nil {
		return errors.New("database from name props: must not be nil")
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
	return errors.Join(errs...)
}

func (p *FromNameProps) prefix() string {
	if p.Prefix == nil {
		return contract.DefaultPrefix
	}
	return *p.Prefix
}

type importedDatabase struct {
	constructs.Construct
	name   string
	prefix string
	params map[string]*string
}

// FromName returns the database called props.Name as an IDatabase whose
// attributes are read from its SSM parameters at deploy time (CloudFormation
// SSM parameter types: no synth-time lookup, no CloudFormation export). The
// database stack must be deployed first.
func FromName(scope constructs.Construct, id string, props *FromNameProps) IDatabase {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	return &importedDatabase{Construct: c, name: *props.Name, prefix: props.prefix(), params: map[string]*string{}}
}

// param reads one published parameter, on first use only, so the stack
// gets a CloudFormation parameter only for the attributes it uses.
func (db *importedDatabase) param(key string) *string {
	if v, ok := db.params[key]; ok {
		return v
	}
	v := awsssm.StringParameter_ValueForStringParameter(db.Construct, jsii.String(contract.Names{Prefix: db.prefix}.DatabaseParameter(db.name, key)), nil)
	db.params[key] = v
	return v
}

func (db *importedDatabase) DatabaseName() *string       { return jsii.String(db.name) }
func (db *importedDatabase) Endpoint() *string           { return db.param(ParamEndpoint) }
func (db *importedDatabase) Port() *string               { return db.param(ParamPort) }
func (db *importedDatabase) ClusterResourceID() *string  { return db.param(ParamClusterResourceID) }
func (db *importedDatabase) ManagerFunctionArn() *string { return db.param(ParamManagerFunctionArn) }
func (db *importedDatabase) SecurityGroupID() *string    { return db.param(ParamSecurityGroupID) }
