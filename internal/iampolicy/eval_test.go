package iampolicy

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse("p", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	const td = "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_web:3"
	const cluster = "arn:aws:ecs:eu-west-1:111122223333:cluster/wharf-main"
	tests := []struct {
		name   string
		policy string
		req    Request
		want   Effect
		sid    string // statement that decided, for Allow and ExplicitDeny
		miss   string // substring of a near miss, for ImplicitDeny
	}{
		{
			name:   "exact action and resource",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:RunTask","Resource":"` + td + `"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td},
			want:   Allow, sid: "A",
		},
		{
			name:   "action match is case-insensitive",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ECS:runtask","Resource":"*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td},
			want:   Allow, sid: "A",
		},
		{
			name:   "action wildcard",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`,
			req:    Request{Action: "ecs:DescribeTasks"},
			want:   Allow, sid: "A",
		},
		{
			name:   "action wildcard does not match another prefix",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`,
			req:    Request{Action: "ecs:ListTasks"},
			want:   ImplicitDeny,
		},
		{
			name:   "resource trailing star spans the revision colon",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td},
			want:   Allow, sid: "A",
		},
		{
			name:   "resource of another app's family is not matched",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-api_*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-apix_web:1"},
			want:   ImplicitDeny, miss: "resource",
		},
		{
			name:   "resource match is case-sensitive",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:RunTask","Resource":"arn:aws:ecs:eu-west-1:111122223333:task-definition/Wharf-api_*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td},
			want:   ImplicitDeny,
		},
		{
			name:   "question mark matches one character",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/build-?.json"}]}`,
			req:    Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/build-12.json"},
			want:   ImplicitDeny,
		},
		{
			name:   "an action without resource type needs Resource *",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:ListServices","Resource":"arn:aws:ecs:*"}]}`,
			req:    Request{Action: "ecs:ListServices"},
			want:   ImplicitDeny,
		},
		{
			name:   "explicit deny wins over allow",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:*","Resource":"*"},{"Sid":"D","Effect":"Deny","Action":"ecs:StopTask","Resource":"*"}]}`,
			req:    Request{Action: "ecs:StopTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/abc"},
			want:   ExplicitDeny, sid: "D",
		},
		{
			name:   "NotAction with Allow allows every other action",
			policy: `{"Statement":[{"Sid":"N","Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`,
			req:    Request{Action: "ecs:StopTask", Resource: "arn:aws:ecs:eu-west-1:111122223333:task/wharf-main/abc"},
			want:   Allow, sid: "N",
		},
		{
			name:   "NotAction with Allow does not allow the listed action",
			policy: `{"Statement":[{"Sid":"N","Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`,
			req:    Request{Action: "iam:PassRole", Resource: "arn:aws:iam::111122223333:role/x"},
			want:   ImplicitDeny,
		},
		{
			name:   "NotAction with Deny denies every other action",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"D","Effect":"Deny","NotAction":"ecs:Describe*","Resource":"*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td},
			want:   ExplicitDeny, sid: "D",
		},
		{
			name:   "NotResource",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ssm:GetParameter","NotResource":"arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/*"}]}`,
			req:    Request{Action: "ssm:GetParameter", Resource: "arn:aws:ssm:eu-west-1:111122223333:parameter/wharf/apps/api/config/SECRET"},
			want:   ImplicitDeny, miss: "NotResource",
		},
		{
			name:   "ArnEquals ecs:cluster met",
			policy: `{"Statement":[{"Sid":"R","Effect":"Allow","Action":"ecs:RunTask","Resource":"*","Condition":{"ArnEquals":{"ecs:cluster":"` + cluster + `"}}}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td, Context: Context{"ecs:cluster": {cluster}}},
			want:   Allow, sid: "R",
		},
		{
			name:   "ArnEquals ecs:cluster names the failed condition",
			policy: `{"Statement":[{"Sid":"R","Effect":"Allow","Action":"ecs:RunTask","Resource":"*","Condition":{"ArnEquals":{"ecs:cluster":"` + cluster + `"}}}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td, Context: Context{"ecs:cluster": {"arn:aws:ecs:eu-west-1:111122223333:cluster/other"}}},
			want:   ImplicitDeny, miss: "R: condition ArnEquals ecs:cluster",
		},
		{
			name:   "condition key name is case-insensitive",
			policy: `{"Statement":[{"Sid":"R","Effect":"Allow","Action":"ecs:RunTask","Resource":"*","Condition":{"ArnEquals":{"ECS:Cluster":"` + cluster + `"}}}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td, Context: Context{"ecs:cluster": {cluster}}},
			want:   Allow, sid: "R",
		},
		{
			name:   "missing key without IfExists fails",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"ecs:UpdateService","Resource":"*","Condition":{"ArnLike":{"ecs:task-definition":"arn:aws:ecs:*:*:task-definition/wharf-api_*"}}}]}`,
			req:    Request{Action: "ecs:UpdateService", Resource: "arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_web"},
			want:   ImplicitDeny, miss: "key absent",
		},
		{
			name:   "missing key with IfExists passes",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"ecs:UpdateService","Resource":"*","Condition":{"ArnLikeIfExists":{"ecs:task-definition":"arn:aws:ecs:*:*:task-definition/wharf-api_*"}}}]}`,
			req:    Request{Action: "ecs:UpdateService", Resource: "arn:aws:ecs:eu-west-1:111122223333:service/wharf-main/wharf-api_web"},
			want:   Allow, sid: "S",
		},
		{
			name:   "present key with IfExists is still checked",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"ecs:UpdateService","Resource":"*","Condition":{"ArnLikeIfExists":{"ecs:task-definition":"arn:aws:ecs:*:*:task-definition/wharf-api_*"}}}]}`,
			req:    Request{Action: "ecs:UpdateService", Context: Context{"ecs:task-definition": {"arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-web_web:1"}}},
			want:   ImplicitDeny,
		},
		{
			name:   "StringEquals treats * literally",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"sts:ExternalId":"ext-*"}}}]}`,
			req:    Request{Action: "sts:AssumeRole", Context: Context{"sts:ExternalId": {"ext-123"}}},
			want:   ImplicitDeny,
		},
		{
			name:   "StringLike expands *",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringLike":{"sts:ExternalId":"ext-*"}}}]}`,
			req:    Request{Action: "sts:AssumeRole", Context: Context{"sts:ExternalId": {"ext-123"}}},
			want:   Allow, sid: "S",
		},
		{
			name:   "StringEquals is case-sensitive",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"StringEquals":{"ecs:CreateAction":"RunTask"}}}]}`,
			req:    Request{Action: "ecs:TagResource", Context: Context{"ecs:CreateAction": {"runtask"}}},
			want:   ImplicitDeny,
		},
		{
			name:   "StringEqualsIgnoreCase folds case",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"login.example.com:email":["ann@example.com","bob@example.com"]}}}]}`,
			req:    Request{Action: "sts:AssumeRoleWithWebIdentity", Context: Context{"login.example.com:email": {"Bob@Example.com"}}},
			want:   Allow, sid: "S",
		},
		{
			name:   "several values of one key are ORed",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"StringEquals":{"ecs:CreateAction":["CreateService","RunTask"]}}}]}`,
			req:    Request{Action: "ecs:TagResource", Context: Context{"ecs:CreateAction": {"RunTask"}}},
			want:   Allow, sid: "S",
		},
		{
			name:   "several keys are ANDed",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com","aws:RequestedRegion":"eu-west-1"}}}]}`,
			req:    Request{Action: "iam:PassRole", Context: Context{"iam:PassedToService": {"ecs-tasks.amazonaws.com"}, "aws:RequestedRegion": {"us-east-1"}}},
			want:   ImplicitDeny, miss: "aws:RequestedRegion",
		},
		{
			name:   "StringNotEquals with missing key is true",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/env":"prod"}}}]}`,
			req:    Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
			want:   Allow, sid: "S",
		},
		{
			name:   "StringNotLike rejects a matching value",
			policy: `{"Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotLike":{"aws:ResourceTag/env":"prod*"}}}]}`,
			req:    Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: Context{"aws:ResourceTag/env": {"production"}}},
			want:   ImplicitDeny,
		},
		{
			name:   "ArnNotLike passes a non-matching ARN",
			policy: `{"Statement":[{"Sid":"S","Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/wharf-*"}}},{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}]}`,
			req:    Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: Context{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/intruder"}}},
			want:   ExplicitDeny, sid: "S",
		},
		{
			name:   "Null true means absent",
			policy: `{"Statement":[{"Sid":"D","Effect":"Deny","Action":"ecs:RunTask","Resource":"*","Condition":{"Null":{"aws:RequestTag/wharf:app":"true"}}},{"Sid":"A","Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td},
			want:   ExplicitDeny, sid: "D",
		},
		{
			name:   "Null true with the key present does not apply",
			policy: `{"Statement":[{"Sid":"D","Effect":"Deny","Action":"ecs:RunTask","Resource":"*","Condition":{"Null":{"aws:RequestTag/wharf:app":"true"}}},{"Sid":"A","Effect":"Allow","Action":"ecs:RunTask","Resource":"*"}]}`,
			req:    Request{Action: "ecs:RunTask", Resource: td, Context: Context{"aws:RequestTag/wharf:app": {"api"}}},
			want:   Allow, sid: "A",
		},
		{
			name:   "Bool",
			policy: `{"Statement":[{"Sid":"D","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}]}`,
			req:    Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: Context{"aws:SecureTransport": {"False"}}},
			want:   ExplicitDeny, sid: "D",
		},
		{
			name:   "NumericLessThanEquals",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}]}`,
			req:    Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: Context{"s3:max-keys": {"11"}}},
			want:   ImplicitDeny,
		},
		{
			name:   "ForAnyValue with one matching member",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"wharf:app"}}}]}`,
			req:    Request{Action: "ecs:TagResource", Context: Context{"aws:TagKeys": {"other", "wharf:app"}}},
			want:   Allow, sid: "A",
		},
		{
			name:   "ForAnyValue with the key absent is false",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"wharf:app"}}}]}`,
			req:    Request{Action: "ecs:TagResource"},
			want:   ImplicitDeny,
		},
		{
			name:   "ForAllValues with one foreign member is false",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":"wharf:*"}}}]}`,
			req:    Request{Action: "ecs:TagResource", Context: Context{"aws:TagKeys": {"wharf:app", "owner"}}},
			want:   ImplicitDeny,
		},
		{
			name:   "ForAllValues with the key absent is true",
			policy: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:TagResource","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":"wharf:*"}}}]}`,
			req:    Request{Action: "ecs:TagResource"},
			want:   Allow, sid: "A",
		},
		{
			name:   "statement without Sid is named by index",
			policy: `{"Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::x/*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`,
			req:    Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"},
			want:   Allow, sid: "#1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Evaluate(tc.req, mustParse(t, tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != tc.want {
				t.Fatalf("got %s, want %s", d, tc.want)
			}
			if tc.sid != "" && d.Statement != tc.sid {
				t.Errorf("decided by %q, want %q (%s)", d.Statement, tc.sid, d)
			}
			if tc.want == ImplicitDeny && !strings.HasPrefix(d.String(), "implicit deny: no statement allows "+tc.req.Action+" on ") {
				t.Errorf("message %q", d)
			}
			if tc.miss != "" && !strings.Contains(d.String(), tc.miss) {
				t.Errorf("%q does not mention %q", d, tc.miss)
			}
		})
	}
}

func TestEvaluateAcrossPolicies(t *testing.T) {
	allow := mustParse(t, `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"ecs:StopTask","Resource":"*"}]}`)
	deny := mustParse(t, `{"Statement":[{"Sid":"D","Effect":"Deny","Action":"ecs:Stop*","Resource":"*"}]}`)
	deny.Name = "guard"
	d, err := Evaluate(Request{Action: "ecs:StopTask"}, allow, deny)
	if err != nil || d.Effect != ExplicitDeny || d.Policy != "guard" {
		t.Fatalf("%v %v", d, err)
	}
}

func TestEvaluateErrors(t *testing.T) {
	for _, doc := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"k":"v"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"NullIfExists":{"k":"true"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`,
	} {
		d, err := Evaluate(Request{Action: "s3:GetObject"}, mustParse(t, doc))
		if err == nil {
			t.Errorf("%s: no error, decision %s", doc, d)
		}
	}
	for _, doc := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotAction":"s3:PutObject","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":{"Ref":"Bucket"}}]}`,
		`{"Statement":[{"Effect":"Allow","Actions":"s3:GetObject","Resource":"*"}]}`,
	} {
		if _, err := Parse("p", []byte(doc)); err == nil {
			t.Errorf("%s: parsed", doc)
		}
	}
}

func TestTrust(t *testing.T) {
	const provider = "arn:aws:iam::111122223333:oidc-provider/login.example.com/tenant"
	trust := mustParse(t, `{"Statement":[
	 {"Sid":"Users","Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"`+provider+`"},
	  "Condition":{"StringEquals":{"login.example.com/tenant:aud":"wharf-cli"},"StringEqualsIgnoreCase":{"login.example.com/tenant:email":["ann@example.com"]}}},
	 {"Sid":"ControlPlane","Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
	  "Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}`)
	web := func(aud, email string) Request {
		r, err := WebIdentityRequest(provider, map[string][]string{"aud": {aud}, "sub": {"u1"}, "email": {email}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		req  Request
		want Effect
	}{
		{"listed user", web("wharf-cli", "Ann@example.com"), Allow},
		{"other user", web("wharf-cli", "eve@example.com"), ImplicitDeny},
		{"other audience", web("other-client", "ann@example.com"), ImplicitDeny},
		{"other provider", func() Request {
			r, _ := WebIdentityRequest("arn:aws:iam::111122223333:oidc-provider/evil.example.com", map[string][]string{"aud": {"wharf-cli"}, "email": {"ann@example.com"}})
			return r
		}(), ImplicitDeny},
		{"control plane session with external ID", AssumeRoleRequest("arn:aws:sts::444455556666:assumed-role/wharf-control-plane/fn", "ext-1", nil), Allow},
		{"control plane without external ID", AssumeRoleRequest("arn:aws:iam::444455556666:role/wharf-control-plane", "", nil), ImplicitDeny},
		{"other account", AssumeRoleRequest("arn:aws:iam::999988887777:role/x", "ext-1", nil), ImplicitDeny},
		{"web identity action by an AWS principal", Request{Action: "sts:AssumeRoleWithWebIdentity", Principal: &Principal{Type: "AWS", ID: "arn:aws:iam::444455556666:root"}, Context: Context{"login.example.com/tenant:aud": {"wharf-cli"}, "login.example.com/tenant:email": {"ann@example.com"}}}, ImplicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := EvaluateTrust(trust, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != tc.want {
				t.Errorf("got %s, want %s", d, tc.want)
			}
		})
	}
	if _, err := WebIdentityRequest("arn:aws:iam::1:role/x", nil); err == nil {
		t.Error("a role ARN was accepted as a provider")
	}
}

func TestPrincipalMatching(t *testing.T) {
	role := "arn:aws:iam::111122223333:role/ops"
	tests := []struct {
		stmt map[string][]string
		p    Principal
		want bool
	}{
		{map[string][]string{"AWS": {role}}, Principal{"AWS", role}, true},
		{map[string][]string{"AWS": {role}}, Principal{"AWS", "arn:aws:sts::111122223333:assumed-role/ops/s1"}, true},
		{map[string][]string{"AWS": {role}}, Principal{"AWS", "arn:aws:sts::111122223333:assumed-role/ops2/s1"}, false},
		{map[string][]string{"AWS": {"111122223333"}}, Principal{"AWS", role}, true},
		{map[string][]string{"AWS": {"arn:aws:iam::111122223333:root"}}, Principal{"AWS", "arn:aws:iam::999988887777:role/ops"}, false},
		{map[string][]string{"Service": {"ecs-tasks.amazonaws.com"}}, Principal{"Service", "ecs-tasks.amazonaws.com"}, true},
		{map[string][]string{"Service": {"ecs-tasks.amazonaws.com"}}, Principal{"AWS", "ecs-tasks.amazonaws.com"}, false},
		{map[string][]string{"*": {"*"}}, Principal{"Federated", "x"}, true},
	}
	for i, tc := range tests {
		if got := principalMatches(tc.stmt, tc.p); got != tc.want {
			t.Errorf("%d: %v vs %v = %v", i, tc.stmt, tc.p, got)
		}
	}
}

func TestArnMatches(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"arn:aws:logs:eu-west-1:1:log-group:/wharf/apps/api:log-stream:*", "arn:aws:logs:eu-west-1:1:log-group:/wharf/apps/api:log-stream:web/web/abc", true},
		{"arn:aws:logs:eu-west-1:1:log-group:/wharf/apps/api:log-stream:*", "arn:aws:logs:eu-west-1:1:log-group:/wharf/apps/api2:log-stream:x", false},
		{"arn:aws:ecs:*:*:task/wharf-main/*", "arn:aws:ecs:eu-west-1:1:task/wharf-main/abc", true},
		{"arn:aws:ecs:*", "arn:aws:ecs:eu-west-1:1:task/wharf-main/abc", true},
		{"arn:aws:ecs", "arn:aws:ecs:eu-west-1:1:task/wharf-main/abc", false},
		{"arn:aws:ecs:eu-west-?:1:task/*", "arn:aws:ecs:eu-west-1:1:task/x", true},
		{"arn:aws:ecs:eu-west-?:1:task/*", "arn:aws:ecs:eu-west-10:1:task/x", false},
		{"*", "*", true},
		{"arn:aws:s3:::*", "*", false},
	}
	for _, tc := range tests {
		if got := arnMatches(tc.pattern, tc.value); got != tc.want {
			t.Errorf("arnMatches(%q, %q) = %v", tc.pattern, tc.value, got)
		}
	}
}

// aws:PrincipalArn of an assumed-role session is its role's ARN.
func TestAssumeRoleRequestPrincipalArnOfASession(t *testing.T) {
	req := AssumeRoleRequest("arn:aws:sts::999999999999:assumed-role/wharf-controlplane/fn-session", "x", nil)
	if got := req.Context["aws:PrincipalArn"]; len(got) != 1 || got[0] != "arn:aws:iam::999999999999:role/wharf-controlplane" {
		t.Errorf("aws:PrincipalArn = %v, want the role ARN", got)
	}
	req = AssumeRoleRequest("arn:aws:iam::999999999999:user/alice", "", nil)
	if got := req.Context["aws:PrincipalArn"]; len(got) != 1 || got[0] != "arn:aws:iam::999999999999:user/alice" {
		t.Errorf("aws:PrincipalArn = %v, want the user ARN", got)
	}
}
