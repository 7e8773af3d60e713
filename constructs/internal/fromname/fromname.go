// Package fromname holds what the FromName imports of Wharf's constructs
// (cluster, database, Redis) share: the validation of the prefix and name
// they are given, and reading the SSM parameters the construct published.
package fromname

import (
	"errors"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/contract"
)

// Prefix is the props' prefix, or contract.DefaultPrefix when unset.
func Prefix(prefix *string) string {
	if prefix == nil {
		return contract.DefaultPrefix
	}
	return *prefix
}

// Validate checks the prefix (contract.ValidatePrefix, default when nil)
// and the required name (nameRule) of a FromName's props, and returns
// every error found.
func Validate(prefix, name *string, nameRule func(string) error) []error {
	var errs []error
	if err := contract.ValidatePrefix(Prefix(prefix)); err != nil {
		errs = append(errs, err)
	}
	if name == nil {
		errs = append(errs, errors.New("name: required"))
	} else if err := nameRule(*name); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// Params reads a construct's published SSM parameters at deploy time
// (CloudFormation SSM parameter types: no synth-time lookup, no
// CloudFormation export), each on first use only, so the dependant's
// stack declares a parameter only for the attributes it uses.
type Params struct {
	scope  constructs.Construct
	values map[string]*string
}

// NewParams reads parameters in scope.
func NewParams(scope constructs.Construct) *Params {
	return &Params{scope: scope, values: map[string]*string{}}
}

// Get is the deploy-time value of the parameter called name.
func (p *Params) Get(name string) *string {
	if v, ok := p.values[name]; ok {
		return v
	}
	v := awsssm.StringParameter_ValueForStringParameter(p.scope, jsii.String(name), nil)
	p.values[name] = v
	return v
}
