package database

import (
	"errors"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/internal/fromname"
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
	return errors.Join(fromname.Validate(p.Prefix, p.Name, contract.ValidateDatabaseName)...)
}

type importedDatabase struct {
	constructs.Construct
	name, prefix string
	params       *fromname.Params
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
	return &importedDatabase{Construct: c, name: *props.Name, prefix: fromname.Prefix(props.Prefix), params: fromname.NewParams(c)}
}

// param is the deploy-time value of one published attribute.
func (db *importedDatabase) param(key string) *string {
	return db.params.Get(contract.Names{Prefix: db.prefix}.DatabaseParameter(db.name, key))
}

func (db *importedDatabase) DatabaseName() *string       { return jsii.String(db.name) }
func (db *importedDatabase) Endpoint() *string           { return db.param(ParamEndpoint) }
func (db *importedDatabase) Port() *string               { return db.param(ParamPort) }
func (db *importedDatabase) ClusterResourceID() *string  { return db.param(ParamClusterResourceID) }
func (db *importedDatabase) ManagerFunctionArn() *string { return db.param(ParamManagerFunctionArn) }
func (db *importedDatabase) SecurityGroupID() *string    { return db.param(ParamSecurityGroupID) }
