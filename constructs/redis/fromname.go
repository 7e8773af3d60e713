package redis

import (
	"errors"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/internal/fromname"
	"github.com/wharf-paas/wharf/contract"
)

// FromNameProps names the Redis FromName refers to.
type FromNameProps struct {
	// Prefix is the Wharf resource prefix.
	// Default: "wharf".
	Prefix *string
	// Name is the Wharf name of the Redis. Required.
	Name *string
}

// Validate checks the props; FromName panics with the same error.
func (p *FromNameProps) Validate() error {
	if p == nil {
		return errors.New("redis from name props: must not be nil")
	}
	return errors.Join(fromname.Validate(p.Prefix, p.Name, contract.ValidateRedisName)...)
}

type importedRedis struct {
	constructs.Construct
	name, prefix string
	params       *fromname.Params
}

// FromName returns the Redis called props.Name as an IRedis whose endpoint
// and security group are read from its SSM parameters at deploy time
// (CloudFormation SSM parameter types: no synth-time lookup, no
// CloudFormation export). The Redis stack must be deployed first, with the
// app in its Apps.
func FromName(scope constructs.Construct, id string, props *FromNameProps) IRedis {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	return &importedRedis{Construct: c, name: *props.Name, prefix: fromname.Prefix(props.Prefix), params: fromname.NewParams(c)}
}

// param is the deploy-time value of one published attribute.
func (r *importedRedis) param(key string) *string {
	return r.params.Get(ParameterName(r.prefix, r.name, key))
}

func (r *importedRedis) RedisName() *string { return jsii.String(r.name) }
func (r *importedRedis) ReplicationGroupID() *string {
	return jsii.String(ReplicationGroupID(r.prefix, r.name))
}
func (r *importedRedis) Endpoint() *string        { return r.param(ParamEndpoint) }
func (r *importedRedis) Port() *string            { return r.param(ParamPort) }
func (r *importedRedis) SecurityGroupID() *string { return r.param(ParamSecurityGroupID) }
