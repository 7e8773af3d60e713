package account

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	testAccount = "111122223333"
	testRegion  = "eu-west-1"
	cpAccount   = "444455556666"
	cpBus       = "arn:aws:events:eu-west-1:444455556666:event-bus/wharf-control-plane"
)

func testProps() *AccountProps {
	return &AccountProps{
		OIDCIssuerURL:           jsii.String("https://login.example.com"),
		OIDCClientIDs:           []string{"wharf-cli", "wharf-dashboard"},
		Administrators:          []string{"Alice@Example.com", "bob@example.com"},
		ControlPlaneAccountID:   jsii.String(cpAccount),
		ControlPlaneEventBusArn: jsii.String(cpBus),
		ObserverExternalID:      jsii.String("0f8e9d7c6b5a"),
	}
}

type synthesized struct {
	tpl assertions.Template
	raw map[string]interface{}
}

// synthOnce synthesizes app once and returns the stacks' templates read from
// the cloud assembly (Template_FromStack would synthesize again).
func synthOnce(t *testing.T, app awscdk.App, stacks ...awscdk.Stack) []synthesized {
	t.Helper()
	asm := app.Synth(nil)
	out := []synthesized{}
	for _, st := range stacks {
		b, err := os.ReadFile(*asm.GetStackArtifact(st.ArtifactId()).TemplateFullPath())
		if err != nil {
			t.Fatalf("read template: %v", err)
		}
		var raw map[string]interface{}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("parse template: %v", err)
		}
		var tpl assertions.Template
		cdktest.Check(t, func() { tpl = assertions.Template_FromString(jsii.String(string(b)), nil) })
		out = append(out, synthesized{tpl: tpl, raw: raw})
	}
	return out
}

func (s synthesized) has(t *testing.T, typ string, props interface{}) {
	t.Helper()
	cdktest.Check(t, func() { s.tpl.HasResourceProperties(jsii.String(typ), props) })
}

func (s synthesized) count(t *testing.T, typ string, n int) {
	t.Helper()
	cdktest.Check(t, func() { s.tpl.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
}

func (s synthesized) resource(t *testing.T, id string) map[string]interface{} {
	t.Helper()
	res, _ := s.raw["Resources"].(map[string]interface{})
	r, ok := res[id].(map[string]interface{})
	if !ok {
		ids := []string{}
		for k := range res {
			ids = append(ids, k)
		}
		t.Fatalf("no resource %s; have %v", id, ids)
	}
	return r
}

func partitionArn(rest string) map[string]interface{} {
	return map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, rest}}}
}

// TestAccount synthesizes one app holding a default account stack and one
// with every optional prop, once, and checks both.
func TestAccount(t *testing.T) {
	app := cdktest.NewApp(t)
	env := &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}
	stack := awscdk.NewStack(app, jsii.String("wharf-account"), &awscdk.StackProps{Env: env})
	acc := NewAccount(stack, "Account", testProps())
	// A build role as the App construct's CodeBuild project would have.
	builder := awsiam.NewRole(stack, jsii.String("BuildRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	acc.GrantDockerHubRead(builder)

	custom := testProps()
	custom.Prefix = jsii.String("acme")
	custom.OIDCIssuerURL = jsii.String("https://id.example.org/realms/eng/")
	custom.OIDCThumbprints = []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}
	custom.CdkBootstrapQualifier = jsii.String("acme01")
	customStack := awscdk.NewStack(app, jsii.String("acme-account"), &awscdk.StackProps{Env: env})
	custom.AdminManagedPolicies = []awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("ReadOnlyAccess"))}
	customAcc := NewAccount(customStack, "Account", custom)
	byPrefix := awsiam.NewRole(customStack, jsii.String("OtherBuildRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	GrantDockerHubReadByPrefix(customStack, "acme", byPrefix)

	cdktest.AssertNagClean(t, stack)
	cdktest.AssertNagClean(t, customStack)
	synth := synthOnce(t, app, stack, customStack)
	s, c := synth[0], synth[1]

	t.Run("resources", func(t *testing.T) {
		s.count(t, "AWS::IAM::OIDCProvider", 1)
		s.count(t, "AWS::IAM::Role", 4) // admin, observer, event bus, test build role
		s.count(t, "AWS::Events::Rule", 1)
		s.count(t, "AWS::SSM::Parameter", 1)
		s.count(t, "AWS::Lambda::Function", 0) // native OIDC provider: no custom resource
		s.count(t, "Custom::AWSCDKOpenIdConnectProvider", 0)
	})

	t.Run("oidc provider", func(t *testing.T) {
		s.has(t, "AWS::IAM::OIDCProvider", assertions.Match_ObjectEquals(&map[string]interface{}{
			"Url":          "https://login.example.com",
			"ClientIdList": []interface{}{"wharf-cli", "wharf-dashboard"},
		}))
		c.has(t, "AWS::IAM::OIDCProvider", map[string]interface{}{
			"Url":            "https://id.example.org/realms/eng/",
			"ThumbprintList": []interface{}{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
		})
	})

	t.Run("administrators parameter", func(t *testing.T) {
		s.has(t, "AWS::SSM::Parameter", map[string]interface{}{
			"Name": "/wharf/account/administrators", "Type": "String", "Value": "alice@example.com,bob@example.com",
		})
		c.has(t, "AWS::SSM::Parameter", map[string]interface{}{"Name": "/acme/account/administrators"})
	})

	t.Run("admin role trust: listed emails and our audiences only", func(t *testing.T) {
		s.has(t, "AWS::IAM::Role", map[string]interface{}{
			"RoleName":           "wharf-account-admin",
			"MaxSessionDuration": 3600,
			"AssumeRolePolicyDocument": assertions.Match_ObjectEquals(&map[string]interface{}{
				"Version": "2012-10-17",
				"Statement": []interface{}{map[string]interface{}{
					"Effect":    "Allow",
					"Action":    "sts:AssumeRoleWithWebIdentity",
					"Principal": map[string]interface{}{"Federated": map[string]interface{}{"Ref": "AccountOidcProviderE1753168"}},
					"Condition": map[string]interface{}{
						"StringEquals":           map[string]interface{}{"login.example.com:aud": []interface{}{"wharf-cli", "wharf-dashboard"}},
						"StringEqualsIgnoreCase": map[string]interface{}{"login.example.com:email": []interface{}{"alice@example.com", "bob@example.com"}},
					},
				}},
			}),
			"ManagedPolicyArns": assertions.Match_Absent(),
		})
		// The condition key keeps the issuer's path and trailing slash.
		c.has(t, "AWS::IAM::Role", map[string]interface{}{
			"RoleName": "acme-account-admin",
			"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Condition": map[string]interface{}{
					"StringEquals":           map[string]interface{}{"id.example.org/realms/eng/:aud": []interface{}{"wharf-cli", "wharf-dashboard"}},
					"StringEqualsIgnoreCase": map[string]interface{}{"id.example.org/realms/eng/:email": []interface{}{"alice@example.com", "bob@example.com"}},
				},
			})}},
			"ManagedPolicyArns": []interface{}{partitionArn(":iam::aws:policy/ReadOnlyAccess")},
		})
	})

	t.Run("admin role permissions", func(t *testing.T) {
		s.has(t, "AWS::IAM::Role", map[string]interface{}{
			"RoleName": "wharf-account-admin",
			"Policies": []interface{}{map[string]interface{}{
				"PolicyName": "wharf-admin",
				"PolicyDocument": map[string]interface{}{"Version": "2012-10-17", "Statement": []interface{}{
					map[string]interface{}{
						"Sid": "DeployThroughCdkBootstrapRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
						"Resource": partitionArn(":iam::111122223333:role/cdk-hnb659fds-*"),
					},
					map[string]interface{}{
						"Sid": "ManageWharfParameters", "Effect": "Allow",
						"Action": []interface{}{
							"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory",
							"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters",
							"ssm:AddTagsToResource", "ssm:ListTagsForResource",
						},
						"Resource": partitionArn(":ssm:eu-west-1:111122223333:parameter/wharf/*"),
					},
					map[string]interface{}{
						"Sid": "InvokeDatabaseManagers", "Effect": "Allow", "Action": "lambda:InvokeFunction",
						"Resource": partitionArn(":lambda:eu-west-1:111122223333:function:wharf-database-*-manager"),
					},
					map[string]interface{}{"Sid": "ListParameters", "Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*"},
				}},
			}},
		})
		c.has(t, "AWS::IAM::Role", map[string]interface{}{
			"RoleName": "acme-account-admin",
			"Policies": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{
					assertions.Match_ObjectLike(&map[string]interface{}{"Resource": partitionArn(":iam::111122223333:role/cdk-acme01-*")}),
					assertions.Match_ObjectLike(&map[string]interface{}{"Resource": partitionArn(":ssm:eu-west-1:111122223333:parameter/acme/*")}),
				})},
			})},
		})
	})

	t.Run("observer role", func(t *testing.T) {
		ecs := func(rest string) map[string]interface{} { return partitionArn(":ecs:eu-west-1:111122223333:" + rest) }
		s.has(t, "AWS::IAM::Role", assertions.Match_ObjectEquals(&map[string]interface{}{
			"RoleName":           "wharf-account-observer",
			"Description":        "Wharf control plane: read-only view of ECS tasks and services in Wharf clusters",
			"MaxSessionDuration": 3600,
			"AssumeRolePolicyDocument": map[string]interface{}{
				"Version": "2012-10-17",
				"Statement": []interface{}{map[string]interface{}{
					"Effect":    "Allow",
					"Action":    "sts:AssumeRole",
					"Principal": map[string]interface{}{"AWS": partitionArn(":iam::444455556666:root")},
					// Only the control-plane Lambda's role, with the external ID.
					"Condition": map[string]interface{}{
						"StringEquals": map[string]interface{}{"sts:ExternalId": "0f8e9d7c6b5a"},
						"ArnEquals":    map[string]interface{}{"aws:PrincipalArn": partitionArn(":iam::444455556666:role/wharf-controlplane")},
					},
				}},
			},
			"Policies": []interface{}{map[string]interface{}{
				"PolicyName": "wharf-observer",
				"PolicyDocument": map[string]interface{}{"Version": "2012-10-17", "Statement": []interface{}{
					map[string]interface{}{"Sid": "DescribeWharfServices", "Effect": "Allow", "Action": "ecs:DescribeServices", "Resource": ecs("service/wharf-*/wharf-*")},
					map[string]interface{}{"Sid": "DescribeWharfTasks", "Effect": "Allow", "Action": "ecs:DescribeTasks", "Resource": ecs("task/wharf-*/*")},
					map[string]interface{}{"Sid": "ReadWharfTags", "Effect": "Allow", "Action": "ecs:ListTagsForResource", "Resource": []interface{}{ecs("service/wharf-*/wharf-*"), ecs("task/wharf-*/*")}},
				}},
			}},
		}))
	})

	t.Run("parameter change rule forwards only /<prefix>/ to the control plane bus", func(t *testing.T) {
		s.has(t, "AWS::Events::Rule", map[string]interface{}{
			"State": "ENABLED",
			"EventPattern": assertions.Match_ObjectEquals(&map[string]interface{}{
				"source":      []interface{}{"aws.ssm"},
				"detail-type": []interface{}{"Parameter Store Change"},
				"detail":      map[string]interface{}{"name": []interface{}{map[string]interface{}{"prefix": "/wharf/"}}},
			}),
			"Targets": []interface{}{map[string]interface{}{
				"Arn": cpBus, "Id": "Target0",
				"RoleArn": map[string]interface{}{"Fn::GetAtt": []interface{}{"AccountEventBusRole032B212E", "Arn"}},
			}},
		})
		c.has(t, "AWS::Events::Rule", map[string]interface{}{"EventPattern": map[string]interface{}{
			"detail": map[string]interface{}{"name": []interface{}{map[string]interface{}{"prefix": "/acme/"}}},
		}})
		// The one event-bus role: trusted by EventBridge, allowed to put
		// events on that bus only.
		s.has(t, "AWS::IAM::Role", map[string]interface{}{
			"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]interface{}{"Service": "events.amazonaws.com"},
			}}},
		})
		s.has(t, "AWS::IAM::Policy", map[string]interface{}{
			"Roles": []interface{}{map[string]interface{}{"Ref": "AccountEventBusRole032B212E"}},
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Effect": "Allow", "Action": "events:PutEvents", "Resource": cpBus,
			}}},
		})
	})

	t.Run("docker hub read grant is limited to the one parameter", func(t *testing.T) {
		if acc.DockerHubParameterName != "/wharf/account/dockerhub" || customAcc.DockerHubParameterName != "/acme/account/dockerhub" {
			t.Errorf("DockerHubParameterName = %q, %q", acc.DockerHubParameterName, customAcc.DockerHubParameterName)
		}
		s.has(t, "AWS::IAM::Policy", map[string]interface{}{
			"Roles": []interface{}{map[string]interface{}{"Ref": "BuildRole41B77417"}},
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Effect": "Allow", "Action": []interface{}{"ssm:GetParameter", "ssm:GetParameters"},
				"Resource": partitionArn(":ssm:eu-west-1:111122223333:parameter/wharf/account/dockerhub"),
			}}},
		})
		c.has(t, "AWS::IAM::Policy", map[string]interface{}{
			"PolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
				"Effect": "Allow", "Action": []interface{}{"ssm:GetParameter", "ssm:GetParameters"},
				"Resource": partitionArn(":ssm:eu-west-1:111122223333:parameter/acme/account/dockerhub"),
			}}},
		})
	})

	t.Run("pinned logical IDs", func(t *testing.T) {
		for id, typ := range map[string]string{
			"AccountOidcProviderE1753168":            "AWS::IAM::OIDCProvider",
			"AccountAdministratorsParameterF36FBF59": "AWS::SSM::Parameter",
			"AccountAdminRole9485E905":               "AWS::IAM::Role",
			"AccountObserverRole84FE10A8":            "AWS::IAM::Role",
			"AccountParameterChangeRule2FC54A12":     "AWS::Events::Rule",
			"AccountEventBusRole032B212E":            "AWS::IAM::Role",
		} {
			if got := s.resource(t, id)["Type"]; got != typ {
				t.Errorf("%s has type %v, want %s", id, got, typ)
			}
		}
	})

	t.Run("no exports", func(t *testing.T) {
		for _, x := range synth {
			if outs, ok := x.raw["Outputs"].(map[string]interface{}); ok {
				for name, o := range outs {
					if _, ok := o.(map[string]interface{})["Export"]; ok {
						t.Errorf("output %s is exported", name)
					}
				}
			}
		}
	})
}

func TestValidateAccepts(t *testing.T) {
	if err := testProps().Validate(); err != nil {
		t.Fatalf("valid props rejected: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	long := make([]string, 60)
	for i := range long {
		long[i] = fmt.Sprintf("administrator.number.%02d@example.com", i)
	}
	cases := []struct {
		name   string
		mutate func(*AccountProps)
		want   string
	}{
		{"prefix", func(p *AccountProps) { p.Prefix = jsii.String("wharf-1") }, `prefix: "wharf-1" must be a lowercase letter followed by lowercase letters or digits`},
		{"long prefix", func(p *AccountProps) { p.Prefix = jsii.String("abcdefghijklmnopq") }, `prefix: "abcdefghijklmnopq" is 17 characters; at most 16`},
		{"issuer missing", func(p *AccountProps) { p.OIDCIssuerURL = nil }, `oidcIssuerUrl "": must be an https:// URL`},
		{"issuer http", func(p *AccountProps) { p.OIDCIssuerURL = jsii.String("http://login.example.com") }, `oidcIssuerUrl "http://login.example.com": must be an https:// URL`},
		{"issuer query", func(p *AccountProps) { p.OIDCIssuerURL = jsii.String("https://login.example.com/?a=b") }, "no query, fragment or credentials"},
		{"issuer port", func(p *AccountProps) { p.OIDCIssuerURL = jsii.String("https://login.example.com:8443") }, `oidcIssuerUrl "https://login.example.com:8443": must not contain a port`},
		{"no client ids", func(p *AccountProps) { p.OIDCClientIDs = nil }, "oidcClientIds: at least one client ID is required"},
		{"client id with space", func(p *AccountProps) { p.OIDCClientIDs = []string{"wharf cli"} }, `oidcClientIds: "wharf cli" must be 1-255 printable characters without spaces`},
		{"client id twice", func(p *AccountProps) { p.OIDCClientIDs = []string{"a", "a"} }, `oidcClientIds: "a" is listed twice`},
		{"bad thumbprint", func(p *AccountProps) { p.OIDCThumbprints = []string{"abc"} }, `oidcThumbprints: "abc" must be 40 hexadecimal digits`},
		{"six thumbprints", func(p *AccountProps) {
			p.OIDCThumbprints = strings.Split(strings.Repeat("9e99a48a9960b14926bb7f3b02e22da2b0ab7280,", 6), ",")[:6]
		}, "oidcThumbprints: 6 thumbprints, IAM allows at most 5"},
		{"no admins", func(p *AccountProps) { p.Administrators = nil }, "administrators: at least one administrator email is required"},
		{"admin not an email", func(p *AccountProps) { p.Administrators = []string{"alice"} }, `administrators: "alice" is not an email address`},
		{"admin with comma", func(p *AccountProps) { p.Administrators = []string{"a,b@example.com"} }, `administrators: "a,b@example.com" is not an email address`},
		{"admin twice", func(p *AccountProps) { p.Administrators = []string{"a@example.com", "A@example.com"} }, `administrators: "A@example.com" is listed twice`},
		{"trust policy too large", func(p *AccountProps) { p.Administrators = long }, "over IAM's default quota of 2048"},
		{"control plane account", func(p *AccountProps) { p.ControlPlaneAccountID = jsii.String("4444") }, `controlPlaneAccountId "4444": must be a 12-digit AWS account ID`},
		{"bus not an arn", func(p *AccountProps) { p.ControlPlaneEventBusArn = jsii.String("wharf") }, `controlPlaneEventBusArn "wharf": must be an event bus ARN`},
		{"bus in another account", func(p *AccountProps) {
			p.ControlPlaneEventBusArn = jsii.String("arn:aws:events:eu-west-1:999999999999:event-bus/x")
		}, "must be in the control plane account 444455556666"},
		{"external id short", func(p *AccountProps) { p.ObserverExternalID = jsii.String("x") }, "observerExternalId: must be 2-1224 characters"},
		{"external id charset", func(p *AccountProps) { p.ObserverExternalID = jsii.String("a b c") }, "observerExternalId: must be 2-1224 characters"},
		{"qualifier", func(p *AccountProps) { p.CdkBootstrapQualifier = jsii.String("Bad") }, `cdkBootstrapQualifier "Bad": must be 1-10 lowercase letters or digits`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := testProps()
			tc.mutate(p)
			err := p.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
	if err := (*AccountProps)(nil).Validate(); err == nil {
		t.Error("nil props accepted")
	}
}

// TestTrustPolicySizeEstimate checks the estimate never undercounts the
// policy IAM would store for the same inputs.
func TestTrustPolicySizeEstimate(t *testing.T) {
	for _, admins := range [][]string{{"a@b.co"}, {"alice@example.com", "bob@example.com", "carol.long-name@example.co.uk"}} {
		key := "login.example.com/realms/eng"
		doc := map[string]interface{}{
			"Version": "2012-10-17",
			"Statement": []interface{}{map[string]interface{}{
				"Action": "sts:AssumeRoleWithWebIdentity",
				"Condition": map[string]interface{}{
					"StringEquals":           map[string]interface{}{key + ":aud": []string{"wharf-cli"}},
					"StringEqualsIgnoreCase": map[string]interface{}{key + ":email": admins},
				},
				"Effect":    "Allow",
				"Principal": map[string]interface{}{"Federated": "arn:aws-us-gov:iam::111122223333:oidc-provider/" + key},
			}},
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		est := trustPolicySize(key, []string{"wharf-cli"}, admins)
		if est < len(b) || est > len(b)+40 {
			t.Errorf("estimate %d for a %d-character policy (want at most 40 over)", est, len(b))
		}
	}
}

func TestNewAccountPanicsWithValidateError(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	st := awscdk.NewStack(app, jsii.String("s"), nil)
	p := testProps()
	p.Administrators = []string{"nobody"}
	want := p.Validate().Error()
	var got string
	func() {
		defer func() { got = fmt.Sprint(recover()) }()
		NewAccount(st, "Account", p)
	}()
	if got != want {
		t.Errorf("panic %q, want %q", got, want)
	}
	if n := len(*st.Node().Children()); n != 0 {
		t.Errorf("stack has %d children after a failed NewAccount", n)
	}
}
