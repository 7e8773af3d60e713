// Package account provides the Wharf Account construct: the per-account
// resources every Wharf installation needs once, whatever its clusters and
// apps. It creates the OIDC identity provider users log in with, the admin
// role only listed administrators can assume, the read-only observer role
// the control plane uses to resolve ECS events, the EventBridge rule that
// forwards Parameter Store changes under /<prefix>/ to the control plane, and
// the administrators list in SSM. It also names (but cannot create) the
// Docker Hub credentials SecureString and grants read access to it.
package account

import (
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/wharf-paas/wharf/contract"
)

// AdminMaxSessionHours is the longest session the admin and observer roles
// allow, in hours: IAM's minimum for MaxSessionDuration. Clients should ask
// for 15 minutes (DurationSeconds=900), the STS minimum.
const AdminMaxSessionHours = 1

// Account is the Wharf Account construct. Create one per AWS account, in the
// stack named <prefix>-account.
type Account struct {
	constructs.Construct
	// Prefix is the resource prefix in use.
	Prefix string
	// OIDCProvider is the IAM OIDC identity provider users log in with.
	OIDCProvider awsiam.OidcProviderNative
	// AdminRole is <prefix>-account-admin, assumable with
	// AssumeRoleWithWebIdentity by listed administrators only.
	AdminRole awsiam.Role
	// ObserverRole is <prefix>-account-observer, assumable by the control
	// plane account with the external ID; it can only describe and list ECS
	// tasks, services and their tags in Wharf clusters.
	ObserverRole awsiam.Role
	// AdministratorsParameter is /<prefix>/account/administrators: the
	// administrators' emails, lowercase, sorted, comma-separated.
	AdministratorsParameter awsssm.StringParameter
	// ParameterChangeRule forwards aws.ssm "Parameter Store Change" events
	// for names under /<prefix>/ to the control plane's event bus.
	ParameterChangeRule awsevents.Rule
	// EventBusRole is the one role EventBridge uses to put events on the
	// control plane's bus.
	EventBusRole awsiam.Role
	// DockerHubParameterName is /<prefix>/account/dockerhub, the SecureString
	// users create with `aws ssm put-parameter` (docs/security.md).
	DockerHubParameterName string
	// DockerHubParameterArn is the ARN of DockerHubParameterName in this
	// stack's account and region.
	DockerHubParameterArn *string
}

// NewAccount creates the Account construct. It panics with the error of
// props.Validate() when the props are invalid.
func NewAccount(scope constructs.Construct, id string, props *AccountProps) *Account {
	if err := props.Validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(c)
	prefix := props.prefix()
	issuer, _ := issuerKey(*props.OIDCIssuerURL) // validated above
	a := &Account{Construct: c, Prefix: prefix}

	// OIDC identity provider: a plain AWS::IAM::OIDCProvider (no custom
	// resource Lambda).
	a.OIDCProvider = awsiam.NewOidcProviderNative(c, jsii.String("OidcProvider"), &awsiam.OidcProviderNativeProps{
		Url:         props.OIDCIssuerURL,
		ClientIds:   jsii.Strings(props.OIDCClientIDs...),
		Thumbprints: optionalStrings(props.OIDCThumbprints),
	})

	admins := normalizeEmails(props.Administrators)
	a.AdministratorsParameter = awsssm.NewStringParameter(c, jsii.String("AdministratorsParameter"), &awsssm.StringParameterProps{
		ParameterName: jsii.String(contract.Names{Prefix: prefix}.AdministratorsParameter()),
		Description:   jsii.String("Wharf administrators (emails, comma-separated); the admin role trust policy is built from the same list"),
		StringValue:   jsii.String(strings.Join(admins, ",")),
	})

	a.AdminRole = newAdminRole(c, stack, prefix, issuer, a.OIDCProvider.OidcProviderArn(), props, admins)
	a.ObserverRole = newObserverRole(c, stack, prefix, props)
	a.EventBusRole, a.ParameterChangeRule = newParameterChangeRule(c, prefix, props)

	a.DockerHubParameterName = DockerHubParameterName(prefix)
	a.DockerHubParameterArn = dockerHubArn(stack, prefix)
	return a
}

// DockerHubParameterName is the name of the Docker Hub credentials
// SecureString: /<prefix>/account/dockerhub. Its value is
// <username>:<access token> (docs/security.md).
func DockerHubParameterName(prefix string) string {
	return contract.Names{Prefix: prefix}.DockerHubParameter()
}

func dockerHubArn(stack awscdk.Stack, prefix string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("ssm"),
		Resource:     jsii.String("parameter"),
		ResourceName: jsii.String(strings.TrimPrefix(DockerHubParameterName(prefix), "/")),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// GrantDockerHubRead lets grantee read the Docker Hub credentials
// SecureString (ssm:GetParameter and ssm:GetParameters on that one
// parameter, nothing else). The parameter is encrypted with the account's
// AWS-managed aws/ssm key, whose key policy already lets principals of the
// account decrypt through SSM, so no KMS statement is needed.
func (a *Account) GrantDockerHubRead(grantee awsiam.IGrantable) awsiam.Grant {
	return grantDockerHubRead(grantee, *a.DockerHubParameterArn)
}

// GrantDockerHubReadByPrefix is GrantDockerHubRead for a stack that has no
// Account object (an app stack in another CDK app): it grants read access
// to /<prefix>/account/dockerhub in the account and region of scope's stack.
func GrantDockerHubReadByPrefix(scope constructs.Construct, prefix string, grantee awsiam.IGrantable) awsiam.Grant {
	if err := contract.ValidatePrefix(prefix); err != nil {
		panic(err)
	}
	return grantDockerHubRead(grantee, *dockerHubArn(awscdk.Stack_Of(scope), prefix))
}

func grantDockerHubRead(grantee awsiam.IGrantable, arn string) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("ssm:GetParameter", "ssm:GetParameters"),
		ResourceArns: jsii.Strings(arn),
	})
}

func newAdminRole(c constructs.Construct, stack awscdk.Stack, prefix, issuer string, providerArn *string, props *AccountProps, admins []string) awsiam.Role {
	// Only tokens issued to our client IDs, and only for listed emails:
	// <issuer>:aud and <issuer>:email are among the claims IAM exposes as
	// condition keys for OIDC providers (docs/security.md explains the
	// choice). sts:TagSession is not allowed, so tokens carrying session
	// tags are refused.
	principal := awsiam.NewWebIdentityPrincipal(providerArn, &map[string]interface{}{
		"StringEquals": map[string]interface{}{
			issuer + ":aud": props.OIDCClientIDs,
		},
		"StringEqualsIgnoreCase": map[string]interface{}{
			issuer + ":email": admins,
		},
	})
	qualifier := props.qualifier()
	policy := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:     jsii.String("DeployThroughCdkBootstrapRoles"),
				Actions: jsii.Strings("sts:AssumeRole"),
				Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
					Service:      jsii.String("iam"),
					Region:       jsii.String(""),
					Resource:     jsii.String("role"),
					ResourceName: jsii.String("cdk-" + qualifier + "-*"),
					ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
				})),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ManageWharfParameters"),
				Actions: jsii.Strings(
					"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
					"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters",
					"ssm:AddTagsToResource", "ssm:ListTagsForResource",
				),
				Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
					Service:      jsii.String("ssm"),
					Resource:     jsii.String("parameter"),
					ResourceName: jsii.String(strings.TrimPrefix(contract.Names{Prefix: prefix}.ParameterRoot(), "/") + "*"),
					ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
				})),
			}),
			// wharf db create | destroy | sql (docs/dbmanager.md): invoke the
			// database managers, <prefix>-database-<db>-manager; the wildcard
			// is the database name, the managers exist per database stack.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("InvokeDatabaseManagers"),
				Actions:   jsii.Strings("lambda:InvokeFunction"),
				Resources: jsii.Strings(*dbManagerArns(stack, prefix)),
			}),
			// ssm:DescribeParameters has no resource type in the Service
			// Authorization Reference: it only accepts Resource "*". It
			// returns names and metadata, never values.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ListParameters"),
				Actions:   jsii.Strings("ssm:DescribeParameters"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	var managed *[]awsiam.IManagedPolicy
	if len(props.AdminManagedPolicies) > 0 {
		m := append([]awsiam.IManagedPolicy(nil), props.AdminManagedPolicies...)
		managed = &m
	}
	role := awsiam.NewRole(c, jsii.String("AdminRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(contract.Names{Prefix: prefix}.AdminRole()),
		Description:        jsii.String("Wharf administrators (web identity, listed emails only)"),
		AssumedBy:          principal,
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(AdminMaxSessionHours)),
		InlinePolicies:     &map[string]awsiam.PolicyDocument{"wharf-admin": policy},
		ManagedPolicies:    managed,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("admin role: cdk-" + qualifier + "-* matches only this account's CDK bootstrap roles (deploy, lookup, publishing) that `cdk deploy` assumes; parameter/" +
			prefix + "/* is Wharf's own SSM namespace; function:" + prefix + "-database-*-manager are the database managers (one per database); ssm:DescribeParameters supports only Resource *"),
		AppliesTo: &[]interface{}{
			"Resource::arn:<AWS::Partition>:iam::" + nagAccount(stack) + ":role/cdk-" + qualifier + "-*",
			"Resource::arn:<AWS::Partition>:ssm:" + nagRegion(stack) + ":" + nagAccount(stack) + ":parameter/" + prefix + "/*",
			"Resource::arn:<AWS::Partition>:lambda:" + nagRegion(stack) + ":" + nagAccount(stack) + ":function:" + contract.Names{Prefix: prefix}.DatabaseManagerFunction("*"),
			"Resource::*",
		},
	}}, jsii.Bool(true))
	if managed != nil {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-IAM4"),
			Reason: jsii.String("admin role: the managed policies on it are exactly those the platform config lists in adminManagedPolicies, an explicit operator choice"),
		}}, jsii.Bool(true))
	}
	return role
}

// dbManagerArns matches every database manager function of the platform.
func dbManagerArns(stack awscdk.Stack, prefix string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("lambda"), Resource: jsii.String("function"),
		ResourceName: jsii.String(contract.Names{Prefix: prefix}.DatabaseManagerFunction("*")), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

func newObserverRole(c constructs.Construct, stack awscdk.Stack, prefix string, props *AccountProps) awsiam.Role {
	ecsArn := func(resource, name string) string {
		return *stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ecs"),
			Resource:     jsii.String(resource),
			ResourceName: jsii.String(name),
			ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
	}
	// Wharf ECS clusters are named <prefix>-<cluster> and services
	// <prefix>-<app>_<proc>, so these patterns match Wharf resources only.
	servicePattern := ecsArn("service", prefix+"-*/"+prefix+"-*")
	taskPattern := ecsArn("task", prefix+"-*/*")
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DescribeWharfServices"),
				Actions:   jsii.Strings("ecs:DescribeServices"),
				Resources: jsii.Strings(servicePattern),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("DescribeWharfTasks"),
				Actions:   jsii.Strings("ecs:DescribeTasks"),
				Resources: jsii.Strings(taskPattern),
			}),
			// The control plane reads tags with DescribeTasks/DescribeServices
			// include=TAGS; ListTagsForResource stays because the reference
			// does not say whether include=TAGS is authorized as it (the IAM
			// contract test, test/iam, lists it as granted but not called).
			// Nothing lists tasks or services with this role, so it has no
			// ecs:ListTasks or ecs:ListServices.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadWharfTags"),
				Actions:   jsii.Strings("ecs:ListTagsForResource"),
				Resources: jsii.Strings(servicePattern, taskPattern),
			}),
		},
	})
	role := awsiam.NewRole(c, jsii.String("ObserverRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(contract.Names{Prefix: prefix}.ObserverRole()),
		Description: jsii.String("Wharf control plane: read-only view of ECS tasks and services in Wharf clusters"),
		// Only the control-plane Lambda's role (aws:PrincipalArn), with the
		// external ID: in a same-account setup the external ID is readable
		// with iam:GetRole.
		AssumedBy: awsiam.NewPrincipalWithConditions(awsiam.NewAccountPrincipal(props.ControlPlaneAccountID), &map[string]interface{}{
			"ArnEquals": map[string]interface{}{
				"aws:PrincipalArn": "arn:" + *awscdk.Aws_PARTITION() + ":iam::" + *props.ControlPlaneAccountID + ":role/" + contract.Names{Prefix: prefix}.ControlPlaneRole(),
			},
		}),
		ExternalIds:        jsii.Strings(*props.ObserverExternalID),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(AdminMaxSessionHours)),
		InlinePolicies:     &map[string]awsiam.PolicyDocument{"wharf-observer": doc},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("observer role: service/" + prefix + "-*/" + prefix + "-* and task/" + prefix +
			"-*/* match only tasks and services of Wharf clusters (ECS cluster names start with the prefix)"),
		AppliesTo: &[]interface{}{
			"Resource::" + servicePatternNag(stack, prefix),
			"Resource::" + taskPatternNag(stack, prefix),
		},
	}}, jsii.Bool(true))
	return role
}

func servicePatternNag(stack awscdk.Stack, prefix string) string {
	return "arn:<AWS::Partition>:ecs:" + nagRegion(stack) + ":" + nagAccount(stack) + ":service/" + prefix + "-*/" + prefix + "-*"
}

func taskPatternNag(stack awscdk.Stack, prefix string) string {
	return "arn:<AWS::Partition>:ecs:" + nagRegion(stack) + ":" + nagAccount(stack) + ":task/" + prefix + "-*/*"
}

// nagAccount and nagRegion render the stack's account and region the way
// cdk-nag prints them in finding IDs: literal values for stacks with an
// explicit env, pseudo-parameter names otherwise.
func nagAccount(stack awscdk.Stack) string {
	if *awscdk.Token_IsUnresolved(stack.Account()) {
		return "<AWS::AccountId>"
	}
	return *stack.Account()
}

func nagRegion(stack awscdk.Stack) string {
	if *awscdk.Token_IsUnresolved(stack.Region()) {
		return "<AWS::Region>"
	}
	return *stack.Region()
}

func newParameterChangeRule(c constructs.Construct, prefix string, props *AccountProps) (awsiam.Role, awsevents.Rule) {
	// One explicit role for the cross-account target; without it CDK makes
	// a role and policy per rule.
	role := awsiam.NewRole(c, jsii.String("EventBusRole"), &awsiam.RoleProps{
		Description: jsii.String("EventBridge: put Wharf parameter-change events on the control plane bus"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
	})
	bus := awsevents.EventBus_FromEventBusArn(c, jsii.String("ControlPlaneBus"), props.ControlPlaneEventBusArn)
	rule := awsevents.NewRule(c, jsii.String("ParameterChangeRule"), &awsevents.RuleProps{
		Description: jsii.String("Forward Parameter Store changes under /" + prefix + "/ to the Wharf control plane"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(contract.SourceSSM),
			DetailType: jsii.Strings(contract.DetailParameterChange),
			Detail: &map[string]interface{}{
				"name": []interface{}{map[string]interface{}{"prefix": contract.Names{Prefix: prefix}.ParameterRoot()}},
			},
		},
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewEventBus(bus, &awseventstargets.EventBusProps{Role: role}),
		},
	})
	return role, rule
}

func normalizeEmails(in []string) []string {
	out := make([]string, 0, len(in))
	for _, e := range in {
		out = append(out, strings.ToLower(strings.TrimSpace(e)))
	}
	sort.Strings(out)
	return out
}

func optionalStrings(s []string) *[]*string {
	if len(s) == 0 {
		return nil
	}
	return jsii.Strings(s...)
}
