package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
)

func validProps() *app.AppProps {
	return &app.AppProps{
		Name:                    jsii.String("api"),
		Cluster:                 &apptest.Cluster{},
		RepositoryURL:           jsii.String("https://github.com/acme/api"),
		ControlPlaneAccountID:   jsii.String(controlPlaneAccount),
		ControlPlaneEventBusArn: jsii.String(busArn),
		ManagementExternalID:    jsii.String("ext-1"),
	}
}

func TestValidateAcceptsMinimalProps(t *testing.T) {
	if err := validProps().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	cases := map[string]struct {
		edit func(p *app.AppProps)
		want string
	}{
		"nil name":      {func(p *app.AppProps) { p.Name = nil }, "name: required"},
		"upper name":    {func(p *app.AppProps) { p.Name = jsii.String("Api") }, `name: "Api"`},
		"double hyphen": {func(p *app.AppProps) { p.Name = jsii.String("a--b") }, `name: "a--b"`},
		"underscore":    {func(p *app.AppProps) { p.Name = jsii.String("a_b") }, `name: "a_b"`},
		"too long":      {func(p *app.AppProps) { p.Name = jsii.String(strings.Repeat("a", 31)) }, "name"},
		"bad prefix":    {func(p *app.AppProps) { p.Prefix = jsii.String("Wharf") }, "prefix"},
		"name too long for the prefix": {func(p *app.AppProps) {
			p.Prefix = jsii.String("abcdefghijklmnop")
			p.Name = jsii.String(strings.Repeat("a", 22))
		}, "leave 16 characters for schedule names"},
		"too many users": {func(p *app.AppProps) {
			p.OIDCIssuerURL = jsii.String("https://login.example.com")
			p.OIDCClientIDs = []string{"wharf-cli"}
			for i := 0; i < 60; i++ {
				p.AllowedUsers = append(p.AllowedUsers, fmt.Sprintf("firstname.lastname%03d@engineering.acme.com", i))
			}
		}, "allowedUsers, allowedSubjects and allowedEmailDomains: 60 entries make a trust policy of about"},
		"domain as pattern":    {func(p *app.AppProps) { p.AllowedEmailDomains = []string{"*@acme.com"} }, `allowedEmailDomains: "*@acme.com" must be a bare domain`},
		"domain upper case":    {func(p *app.AppProps) { p.AllowedEmailDomains = []string{"Acme.com"} }, `allowedEmailDomains: "Acme.com" must be a lowercase domain`},
		"domain single label":  {func(p *app.AppProps) { p.AllowedEmailDomains = []string{"acme"} }, `allowedEmailDomains: "acme"`},
		"public mail domain":   {func(p *app.AppProps) { p.AllowedEmailDomains = []string{"gmail.com"} }, `allowedEmailDomains: "gmail.com" is a public email service`},
		"domain twice":         {func(p *app.AppProps) { p.AllowedEmailDomains = []string{"acme.com", "acme.com"} }, `allowedEmailDomains: "acme.com" is listed twice`},
		"domains need issuer":  {func(p *app.AppProps) { p.AllowedEmailDomains = []string{"acme.com"}; p.OIDCClientIDs = []string{"c"} }, "oidcIssuerUrl"},
		"given repo not https": {func(p *app.AppProps) { p.RepositoryURL = jsii.String("git@github.com:a/b.git") }, `repositoryUrl "git@github.com:a/b.git": must be an https clone URL`},
		"no cluster":           {func(p *app.AppProps) { p.Cluster = nil }, "cluster: required"},
		"no repo":              {func(p *app.AppProps) { p.RepositoryURL = nil }, "repositoryUrl"},
		"http repo":            {func(p *app.AppProps) { p.RepositoryURL = jsii.String("http://github.com/a/b") }, "repositoryUrl"},
		"unknown host":         {func(p *app.AppProps) { p.RepositoryURL = jsii.String("https://git.acme.com/a/b") }, "repositoryType: required"},
		"bad type":             {func(p *app.AppProps) { p.RepositoryType = jsii.String("GITLAB") }, "repositoryType"},
		"bad connection":       {func(p *app.AppProps) { p.ConnectionArn = jsii.String("arn:aws:s3:::x") }, "connectionArn"},
		"bad branch":           {func(p *app.AppProps) { p.Branch = jsii.String("a..b") }, "branch"},
		"five domains":         {func(p *app.AppProps) { p.Domains = app.DomainNames("a.io", "b.io", "c.io", "d.io", "e.io") }, "domains: 5 given"},
		"bad domain":           {func(p *app.AppProps) { p.Domains = app.DomainNames("Shop.io") }, "domains"},
		"dup domain":           {func(p *app.AppProps) { p.Domains = app.DomainNames("a.io", "a.io") }, "listed twice"},
		"bad path":             {func(p *app.AppProps) { p.HealthCheckPath = jsii.String("health") }, "healthCheckPath"},
		"threshold":            {func(p *app.AppProps) { p.HealthyThreshold = ptr(1) }, "healthyThreshold 1"},
		"unhealthy":            {func(p *app.AppProps) { p.UnhealthyThreshold = ptr(11) }, "unhealthyThreshold 11"},
		"interval":             {func(p *app.AppProps) { p.HealthCheckIntervalSeconds = ptr(4) }, "healthCheckIntervalSeconds 4"},
		"timeout=interval":     {func(p *app.AppProps) { p.HealthCheckTimeoutSeconds = ptr(5) }, "healthCheckTimeoutSeconds 5: must be shorter"},
		"deregistration":       {func(p *app.AppProps) { p.DeregistrationDelaySeconds = ptr(3601) }, "deregistrationDelaySeconds"},
		"port":                 {func(p *app.AppProps) { p.ContainerPort = ptr(0) }, "containerPort"},
		"priority":             {func(p *app.AppProps) { p.Priority = ptr(50001) }, "priority"},
		"retention":            {func(p *app.AppProps) { p.LogRetentionDays = ptr(2) }, "logRetentionDays 2"},
		"images":               {func(p *app.AppProps) { p.ImagesToKeep = ptr(0) }, "imagesToKeep"},
		"artifacts":            {func(p *app.AppProps) { p.ArtifactRetentionDays = ptr(0) }, "artifactRetentionDays"},
		"launch type":          {func(p *app.AppProps) { p.LaunchType = jsii.String("fargate") }, "launchType"},
		"bad email":            {func(p *app.AppProps) { p.AllowedUsers = []string{"bob"} }, "allowedUsers"},
		"users need issuer":    {func(p *app.AppProps) { p.AllowedUsers = []string{"a@b.io"}; p.OIDCClientIDs = []string{"c"} }, "oidcIssuerUrl"},
		"users need client": {func(p *app.AppProps) {
			p.AllowedUsers = []string{"a@b.io"}
			p.OIDCIssuerURL = jsii.String("https://id.example.com")
		}, "oidcClientIds"},
		"both databases":   {func(p *app.AppProps) { p.DatabaseName = jsii.String("main"); p.Database = fakeDB{} }, "databaseName: set either"},
		"bad db name":      {func(p *app.AppProps) { p.DatabaseName = jsii.String("Main") }, "databaseName"},
		"reserved pg name": {func(p *app.AppProps) { p.Name = jsii.String("pg-stat"); p.DatabaseName = jsii.String("main") }, "reserves"},
		"admin pg name":    {func(p *app.AppProps) { p.Name = jsii.String("wharf-admin"); p.DatabaseName = jsii.String("main") }, "Wharf admin user"},
		"policy arn":       {func(p *app.AppProps) { p.TaskPolicyArn = jsii.String("arn:aws:iam::1:role/x") }, "taskPolicyArn"},
		"account":          {func(p *app.AppProps) { p.ControlPlaneAccountID = jsii.String("123") }, "controlPlaneAccountId"},
		"bus":              {func(p *app.AppProps) { p.ControlPlaneEventBusArn = jsii.String("bus") }, "controlPlaneEventBusArn"},
		"bus account": {func(p *app.AppProps) {
			p.ControlPlaneEventBusArn = jsii.String("arn:aws:events:eu-west-1:111122223333:event-bus/x")
		}, "must be in the control plane account"},
		"external id": {func(p *app.AppProps) { p.ManagementExternalID = jsii.String("x") }, "managementExternalId"},
	}
	for name, c := range cases {
		p := validProps()
		c.edit(p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
	}
	if err := (*app.AppProps)(nil).Validate(); err == nil {
		t.Error("nil props accepted")
	}
}

func TestNewAppPanicsWithTheValidationError(t *testing.T) {
	a := awscdk.NewApp(nil)
	st := awscdk.NewStack(a, jsii.String("s"), nil)
	p := validProps()
	p.Name = jsii.String("Bad_Name")
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(error).Error(), `name: "Bad_Name"`) {
			t.Errorf("panic %v, want the name error", r)
		}
	}()
	app.NewApp(st, "App", p)
}
