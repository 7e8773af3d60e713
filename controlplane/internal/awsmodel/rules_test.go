package awsmodel

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func fargateTD() *ecstypes.TaskDefinition {
	return &ecstypes.TaskDefinition{
		TaskDefinitionArn:       aws.String("arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-blog_web:3"),
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("img"),
			PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}},
		}},
	}
}

func awsvpc(subnets, groups int) *ecstypes.NetworkConfiguration {
	v := &ecstypes.AwsVpcConfiguration{AssignPublicIp: ecstypes.AssignPublicIpEnabled}
	for i := range subnets {
		v.Subnets = append(v.Subnets, "subnet-"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
	}
	for i := range groups {
		v.SecurityGroups = append(v.SecurityGroups, "sg-"+string(rune('a'+i)))
	}
	return &ecstypes.NetworkConfiguration{AwsvpcConfiguration: v}
}

func lb(port int32) []ecstypes.LoadBalancer {
	return []ecstypes.LoadBalancer{{TargetGroupArn: aws.String("arn:tg"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(port)}}
}

func code(err error) string {
	var ip *ecstypes.InvalidParameterException
	var ce *ecstypes.ClientException
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ip):
		return "InvalidParameterException"
	case errors.As(err, &ce):
		return "ClientException"
	}
	return "other: " + err.Error()
}

// TestListTasksStartedByIsTheOnlyFilter is defect 3 of issue 8: ECS
// refuses startedBy with family ("cannot specify startedBy with other
// arguments").
func TestListTasksStartedByIsTheOnlyFilter(t *testing.T) {
	sb := aws.String("wharf-release-3")
	cases := map[string]struct {
		in   ecs.ListTasksInput
		want string
	}{
		"startedBy alone":              {ecs.ListTasksInput{Cluster: aws.String("c"), StartedBy: sb}, ""},
		"startedBy with family":        {ecs.ListTasksInput{StartedBy: sb, Family: aws.String("f")}, "InvalidParameterException"},
		"startedBy with desiredStatus": {ecs.ListTasksInput{StartedBy: sb, DesiredStatus: ecstypes.DesiredStatusStopped}, "InvalidParameterException"},
		"startedBy with serviceName":   {ecs.ListTasksInput{StartedBy: sb, ServiceName: aws.String("s")}, "InvalidParameterException"},
		"startedBy with launchType":    {ecs.ListTasksInput{StartedBy: sb, LaunchType: ecstypes.LaunchTypeFargate}, "InvalidParameterException"},
		"family with desiredStatus":    {ecs.ListTasksInput{Family: aws.String("f"), DesiredStatus: ecstypes.DesiredStatusStopped}, ""},
		"family with serviceName":      {ecs.ListTasksInput{Family: aws.String("f"), ServiceName: aws.String("s")}, "InvalidParameterException"},
		"maxResults 101":               {ecs.ListTasksInput{MaxResults: aws.Int32(101)}, "InvalidParameterException"},
		"maxResults 0":                 {ecs.ListTasksInput{MaxResults: aws.Int32(0)}, "InvalidParameterException"},
	}
	for name, c := range cases {
		if got := code(ValidateListTasks(&c.in)); got != c.want {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
	}
}

func TestListSizes(t *testing.T) {
	names := func(n int) []string { return make([]string, n) }
	if code(ValidateDescribeServices(&ecs.DescribeServicesInput{Services: names(10)})) != "" ||
		code(ValidateDescribeServices(&ecs.DescribeServicesInput{Services: names(11)})) == "" ||
		code(ValidateDescribeServices(&ecs.DescribeServicesInput{})) == "" {
		t.Error("DescribeServices takes 1 to 10 services")
	}
	if code(ValidateDescribeTasks(&ecs.DescribeTasksInput{Tasks: names(100)})) != "" ||
		code(ValidateDescribeTasks(&ecs.DescribeTasksInput{Tasks: names(101)})) == "" ||
		code(ValidateDescribeTasks(&ecs.DescribeTasksInput{})) == "" {
		t.Error("DescribeTasks takes 1 to 100 tasks")
	}
	if code(ValidateListServices(&ecs.ListServicesInput{MaxResults: aws.Int32(100)})) != "" ||
		code(ValidateListServices(&ecs.ListServicesInput{MaxResults: aws.Int32(101)})) == "" {
		t.Error("ListServices maxResults is 1 to 100")
	}
}

func TestRunTaskRules(t *testing.T) {
	base := func() ecs.RunTaskInput {
		return ecs.RunTaskInput{TaskDefinition: aws.String("f:1"), LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc(2, 1)}
	}
	cases := map[string]struct {
		mut  func(*ecs.RunTaskInput)
		want string
	}{
		"valid":                            {func(*ecs.RunTaskInput) {}, ""},
		"count 10":                         {func(in *ecs.RunTaskInput) { in.Count = aws.Int32(10) }, ""},
		"count 11":                         {func(in *ecs.RunTaskInput) { in.Count = aws.Int32(11) }, "InvalidParameterException"},
		"count 0":                          {func(in *ecs.RunTaskInput) { in.Count = aws.Int32(0) }, "InvalidParameterException"},
		"token 64":                         {func(in *ecs.RunTaskInput) { in.ClientToken = aws.String(strings.Repeat("a", 64)) }, ""},
		"token 65":                         {func(in *ecs.RunTaskInput) { in.ClientToken = aws.String(strings.Repeat("a", 65)) }, "InvalidParameterException"},
		"token with a space":               {func(in *ecs.RunTaskInput) { in.ClientToken = aws.String("a b") }, "InvalidParameterException"},
		"startedBy 129":                    {func(in *ecs.RunTaskInput) { in.StartedBy = aws.String(strings.Repeat("a", 129)) }, "InvalidParameterException"},
		"startedBy with a colon":           {func(in *ecs.RunTaskInput) { in.StartedBy = aws.String("a:b") }, "InvalidParameterException"},
		"no network":                       {func(in *ecs.RunTaskInput) { in.NetworkConfiguration = nil }, "InvalidParameterException"},
		"17 subnets":                       {func(in *ecs.RunTaskInput) { in.NetworkConfiguration = awsvpc(17, 1) }, "InvalidParameterException"},
		"6 security groups":                {func(in *ecs.RunTaskInput) { in.NetworkConfiguration = awsvpc(1, 6) }, "InvalidParameterException"},
		"no security group":                {func(in *ecs.RunTaskInput) { in.NetworkConfiguration = awsvpc(1, 0) }, "InvalidParameterException"},
		"EC2 on a Fargate task definition": {func(in *ecs.RunTaskInput) { in.LaunchType = ecstypes.LaunchTypeEc2 }, "InvalidParameterException"},
		"launch type and capacity providers": {func(in *ecs.RunTaskInput) {
			in.CapacityProviderStrategy = []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT")}}
		}, "InvalidParameterException"},
		"tag aws: prefix": {func(in *ecs.RunTaskInput) {
			in.Tags = []ecstypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}
		}, "InvalidParameterException"},
	}
	for name, c := range cases {
		in := base()
		c.mut(&in)
		if got := code(ValidateRunTask(&in, fargateTD())); got != c.want {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
	}
}

func createInput() ecs.CreateServiceInput {
	return ecs.CreateServiceInput{
		ServiceName: aws.String("wharf-blog_web"), TaskDefinition: aws.String("wharf-blog_web:3"), DesiredCount: aws.Int32(2),
		LaunchType: ecstypes.LaunchTypeFargate, NetworkConfiguration: awsvpc(3, 1), LoadBalancers: lb(8080),
		HealthCheckGracePeriodSeconds: aws.Int32(30), ClientToken: aws.String(strings.Repeat("t", 32)),
		EnableECSManagedTags: true, PropagateTags: ecstypes.PropagateTagsTaskDefinition,
	}
}

func TestCreateServiceRules(t *testing.T) {
	cases := map[string]struct {
		mut  func(*ecs.CreateServiceInput)
		want string
	}{
		"valid":                    {func(*ecs.CreateServiceInput) {}, ""},
		"token 36":                 {func(in *ecs.CreateServiceInput) { in.ClientToken = aws.String(strings.Repeat("t", 36)) }, ""},
		"token 37":                 {func(in *ecs.CreateServiceInput) { in.ClientToken = aws.String(strings.Repeat("t", 37)) }, "InvalidParameterException"},
		"no desired count":         {func(in *ecs.CreateServiceInput) { in.DesiredCount = nil }, "InvalidParameterException"},
		"negative desired count":   {func(in *ecs.CreateServiceInput) { in.DesiredCount = aws.Int32(-1) }, "InvalidParameterException"},
		"grace without a balancer": {func(in *ecs.CreateServiceInput) { in.LoadBalancers = nil }, "InvalidParameterException"},
		"grace 0 without balancer": {func(in *ecs.CreateServiceInput) {
			in.LoadBalancers = nil
			in.HealthCheckGracePeriodSeconds = aws.Int32(0)
		}, ""},
		"port not in task def":       {func(in *ecs.CreateServiceInput) { in.LoadBalancers = lb(9090) }, "InvalidParameterException"},
		"managed tags, no propagate": {func(in *ecs.CreateServiceInput) { in.PropagateTags = "" }, "InvalidParameterException"},
		"bad name":                   {func(in *ecs.CreateServiceInput) { in.ServiceName = aws.String("a.b") }, "InvalidParameterException"},
		"no network":                 {func(in *ecs.CreateServiceInput) { in.NetworkConfiguration = nil }, "InvalidParameterException"},
		"rollback without breaker": {func(in *ecs.CreateServiceInput) {
			in.DeploymentConfiguration = &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Rollback: true}}
		}, "InvalidParameterException"},
	}
	for name, c := range cases {
		in := createInput()
		c.mut(&in)
		if got := code(ValidateCreateService(&in, fargateTD())); got != c.want {
			t.Errorf("%s: got %q, want %q", name, got, c.want)
		}
	}
}

// TestUpdateServiceDeploymentTriggers checks, field by field, what the
// reference says triggers a new deployment and what is applied in place.
func TestUpdateServiceDeploymentTriggers(t *testing.T) {
	in := createInput()
	td := fargateTD()
	td2 := fargateTD()
	td2.TaskDefinitionArn = aws.String("arn:aws:ecs:eu-west-1:111122223333:task-definition/wharf-blog_web:4")
	cases := map[string]struct {
		up     ecs.UpdateServiceInput
		td     *ecstypes.TaskDefinition
		deploy bool
		err    bool
	}{
		"nothing":              {ecs.UpdateServiceInput{}, td, false, false},
		"same task definition": {ecs.UpdateServiceInput{TaskDefinition: aws.String("wharf-blog_web:3")}, td, false, false},
		"new task definition":  {ecs.UpdateServiceInput{TaskDefinition: aws.String("wharf-blog_web:4")}, td2, true, false},
		"desired count":        {ecs.UpdateServiceInput{DesiredCount: aws.Int32(5)}, td, false, false},
		"same network":         {ecs.UpdateServiceInput{NetworkConfiguration: awsvpc(3, 1)}, td, false, false},
		"new subnets":          {ecs.UpdateServiceInput{NetworkConfiguration: awsvpc(2, 1)}, td, true, false},
		"new security groups":  {ecs.UpdateServiceInput{NetworkConfiguration: awsvpc(3, 2)}, td, true, false},
		"public IP off": {ecs.UpdateServiceInput{NetworkConfiguration: func() *ecstypes.NetworkConfiguration {
			n := awsvpc(3, 1)
			n.AwsvpcConfiguration.AssignPublicIp = ""
			return n
		}()}, td, true, false},
		"new target group":            {ecs.UpdateServiceInput{LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String("arn:tg2"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}}, td, true, false},
		"grace period":                {ecs.UpdateServiceInput{HealthCheckGracePeriodSeconds: aws.Int32(60)}, td, false, false},
		"remove balancer, keep grace": {ecs.UpdateServiceInput{LoadBalancers: []ecstypes.LoadBalancer{}}, td, false, true},
		"remove balancer and grace":   {ecs.UpdateServiceInput{LoadBalancers: []ecstypes.LoadBalancer{}, HealthCheckGracePeriodSeconds: aws.Int32(0)}, td, true, false},
		"capacity provider":           {ecs.UpdateServiceInput{CapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}}}, td, false, false},
		"execute command":             {ecs.UpdateServiceInput{EnableExecuteCommand: aws.Bool(true)}, td, false, false},
		"force":                       {ecs.UpdateServiceInput{ForceNewDeployment: true}, td, true, false},
		"port the container lacks":    {ecs.UpdateServiceInput{LoadBalancers: lb(9090)}, td, false, true},
	}
	for name, c := range cases {
		cfg := NewServiceConfig(&in, aws.ToString(td.TaskDefinitionArn))
		before := cfg
		res, err := ApplyUpdateService(&cfg, &c.up, c.td)
		if (err != nil) != c.err {
			t.Errorf("%s: error %v, want error %v", name, err, c.err)
			continue
		}
		if err != nil {
			if cfg.TaskDefinition != before.TaskDefinition || cfg.DesiredCount != before.DesiredCount {
				t.Errorf("%s: a refused update changed the service", name)
			}
			continue
		}
		if res.NewDeployment != c.deploy {
			t.Errorf("%s: new deployment %v, want %v (changed %v)", name, res.NewDeployment, c.deploy, res.Changed)
		}
	}
}

func TestCapacityProviderBackToLaunchType(t *testing.T) {
	in := createInput()
	cfg := NewServiceConfig(&in, "td")
	spot := []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT"), Weight: 1}}
	if _, err := ApplyUpdateService(&cfg, &ecs.UpdateServiceInput{CapacityProviderStrategy: spot}, nil); err != nil {
		t.Fatal(err)
	}
	if cfg.LaunchType != "" || len(cfg.CapacityProviderStrategy) != 1 {
		t.Fatalf("after a capacity provider strategy the service has launch type %q and %d providers", cfg.LaunchType, len(cfg.CapacityProviderStrategy))
	}
	if _, err := ApplyUpdateService(&cfg, &ecs.UpdateServiceInput{CapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}, nil); err != nil {
		t.Fatal(err)
	}
	if cfg.LaunchType != ecstypes.LaunchTypeFargate || cfg.CapacityProviderStrategy != nil {
		t.Fatalf("an empty strategy should return to FARGATE, got %q %v", cfg.LaunchType, cfg.CapacityProviderStrategy)
	}
	cp := createInput()
	cp.LaunchType, cp.CapacityProviderStrategy = "", spot
	cfg = NewServiceConfig(&cp, "td")
	if _, err := ApplyUpdateService(&cfg, &ecs.UpdateServiceInput{CapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{}}, nil); err == nil {
		t.Fatal("a service created with a capacity provider strategy has no launch type to return to")
	}
}

func TestPageAndTokens(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	p, next, err := Page(items, nil, aws.Int32(2), 10)
	if err != nil || len(p) != 2 || next == nil {
		t.Fatalf("first page %v %v %v", p, next, err)
	}
	p, next, err = Page(items, next, aws.Int32(10), 10)
	if err != nil || len(p) != 3 || next != nil {
		t.Fatalf("second page %v %v %v", p, next, err)
	}
	if _, _, err := Page(items, aws.String("garbage"), nil, 10); code(err) != "InvalidParameterException" {
		t.Fatalf("a forged token must be refused, got %v", err)
	}
}

func TestRetryable(t *testing.T) {
	for _, c := range []string{"ThrottlingException", "ServerException", "ServiceUnavailable"} {
		if !Retryable(c) {
			t.Errorf("%s is retryable", c)
		}
	}
	for _, c := range []string{"InvalidParameterException", "ClientException", "ServiceNotFoundException", "ServiceNotActiveException", "ConflictException", "AccessDeniedException"} {
		if Retryable(c) {
			t.Errorf("%s is not retryable", c)
		}
	}
}

func TestRegisterAndDeregister(t *testing.T) {
	in := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("wharf-blog_web"), NetworkMode: ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu:                     aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("img")}},
	}
	if err := ValidateRegisterTaskDefinition(in); err != nil {
		t.Fatal(err)
	}
	bad := *in
	bad.Cpu = nil
	if code(ValidateRegisterTaskDefinition(&bad)) != "ClientException" {
		t.Error("Fargate needs task-level cpu")
	}
	bad = *in
	bad.Family = aws.String(strings.Repeat("f", 256))
	if code(ValidateRegisterTaskDefinition(&bad)) != "ClientException" {
		t.Error("a family has at most 255 characters")
	}
	if code(ValidateDeregisterTaskDefinition(&ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("wharf-blog_web")})) == "" {
		t.Error("deregistering needs a revision")
	}
	if code(ValidateDeregisterTaskDefinition(&ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("wharf-blog_web:2")})) != "" {
		t.Error("family:revision deregisters")
	}
}
