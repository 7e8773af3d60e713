package contract

import (
	"encoding/json"
	"strings"
	"testing"
)

const validRegistry = `{"prefix":"wharf","accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/wharf-account-observer","externalId":"ee"}],
	"apps":[{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/wharf-app-api-management","externalId":"ff"}]}`

func TestParseRegistry(t *testing.T) {
	r, err := ParseRegistry([]byte(validRegistry))
	if err != nil || len(r.Apps) != 1 || r.Prefix != "wharf" {
		t.Fatalf("valid registry: %+v, %v", r, err)
	}
	if r, err := ParseRegistry([]byte(`{"accounts":[],"apps":[]}`)); err != nil || r.Prefix != DefaultPrefix {
		t.Fatalf("empty registry: %+v, %v", r, err)
	}
	cases := []struct{ doc, field string }{
		{`{"prefix":"Wharf"}`, "prefix"},
		{`{"prefix":"acme-co"}`, "prefix"},
		{`{"unknown":1}`, "unknown"},
		{`{"accounts":[{"accountId":"1234","observerRoleArn":"arn:aws:iam::1234:role/x","externalId":"ee"}]}`, "accounts[0].accountId"},
		{`{"accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::999999999999:role/wharf-account-observer","externalId":"ee"}]}`, "accounts[0].observerRoleArn"},
		{`{"accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/other","externalId":"ee"}]}`, "accounts[0].observerRoleArn"},
		{`{"accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/wharf-account-observer"}]}`, "accounts[0].externalId"},
		{strings.Replace(validRegistry, `"apps"`, `"accounts":null,"apps"`, 1), "apps[0].accountId"},
		{strings.Replace(validRegistry, `"name":"api"`, `"name":"a--b"`, 1), "apps[0].name"},
		{strings.Replace(validRegistry, `"region":"eu-west-1"`, `"region":""`, 1), "apps[0].region"},
		{strings.Replace(validRegistry, `role/wharf-app-api-management`, `role/wharf-app-web-management`, 1), "apps[0].managementRoleArn"},
		{strings.Replace(validRegistry, `"externalId":"ff"`, `"externalId":""`, 1), "apps[0].externalId"},
		{strings.Replace(validRegistry, `}]}`, `},{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/wharf-app-api-management","externalId":"ff"}]}`, 1), "apps[1].name"},
	}
	for _, c := range cases {
		_, err := ParseRegistry([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("ParseRegistry(%s) = %v, want an error naming %s", c.doc, err, c.field)
		}
	}
}

func TestRegistryCanonical(t *testing.T) {
	r, _ := ParseRegistry([]byte(validRegistry))
	r.Prefix = ""
	r.Apps = append(r.Apps, AppRegistration{Name: "aaa", AccountID: "111122223333"})
	c := r.Canonical()
	if c.Prefix != DefaultPrefix || c.Apps[0].Name != "aaa" || r.Apps[0].Name != "api" {
		t.Fatalf("Canonical = %+v (input %+v)", c, r)
	}
	b, err := c.MarshalCompact()
	if err != nil || strings.Contains(string(b), "\n") || !strings.HasPrefix(string(b), `{"prefix":"wharf"`) {
		t.Fatalf("MarshalCompact = %s, %v", b, err)
	}
}

func TestParseBuildMetadata(t *testing.T) {
	good := `{"version":1,"app":"api","buildNumber":42,"buildId":"wharf-api:x","commit":"c","image":"i",
	"releaseCommand":"bin/migrate","processes":{"web":{"command":"bin/web","cpu":512,"memory":1024,"count":2},"worker":{"command":"bin/worker"}},
	"schedules":[{"name":"nightly","schedule":"cron(0 3 * * ? *)","command":"bin/nightly"}]}`
	n := Names{Prefix: "wharf"}
	m, err := n.ParseBuildMetadata([]byte(good), "api", 42)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Processes["worker"]; w.CPU != DefaultCPU || w.Memory != DefaultMemory || w.DesiredCount() != 1 {
		t.Errorf("defaults not applied: %+v", w)
	}
	bad := map[string]string{
		"build metadata.version":                  strings.Replace(good, `"version":1`, `"version":2`, 1),
		"build metadata.buildNumber":              strings.Replace(good, `42`, `41`, 1),
		"build metadata.image":                    strings.Replace(good, `"image":"i"`, `"image":""`, 1),
		`build metadata.processes["Worker"]`:      strings.Replace(good, `"worker":{`, `"Worker":{`, 1),
		`build metadata.processes["release"]`:     strings.Replace(good, `"worker":{`, `"release":{`, 1),
		"build metadata.processes.worker.command": strings.Replace(good, `"command":"bin/worker"`, `"command":" "`, 1),
		"build metadata.schedules[0].schedule":    strings.Replace(good, `cron(0 3 * * ? *)`, `0 3 * * *`, 1),
		"build metadata.schedules[0].name":        strings.Replace(good, `"name":"nightly"`, `"name":"Nightly"`, 1),
		"build metadata":                          good + "x",
	}
	for field, doc := range bad {
		_, err := n.ParseBuildMetadata([]byte(doc), "api", 42)
		if fe := AsFieldError(err); fe == nil || fe.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	// The same schedule name is too long for a long prefix and app.
	long := Names{Prefix: strings.Repeat("p", 16)}
	app := strings.Repeat("a", 21)
	doc := strings.NewReplacer(`"app":"api"`, `"app":"`+app+`"`, `"name":"nightly"`, `"name":"nightly-database-sync"`).Replace(good)
	if _, err := long.ParseBuildMetadata([]byte(doc), app, 42); rule(err) != RuleLength {
		t.Errorf("21-character schedule name under a 16+21 prefix and app: %v", err)
	}
	if _, err := n.ParseBuildMetadata([]byte(strings.ReplaceAll(doc, app, "api")), "api", 42); err != nil {
		t.Errorf("the same schedule name under wharf/api: %v", err)
	}
}

func TestParseSettings(t *testing.T) {
	s := Settings{Version: 1, App: "api", Prefix: "wharf", ClusterARN: "arn:aws:ecs:eu-west-1:1:cluster/c",
		Subnets: []string{"s"}, SecurityGroups: []string{"g"}, LaunchType: LaunchTypeFargate,
		TargetGroupARN: "arn:tg", ContainerPort: 8080, ExecutionRoleARN: "arn:e", TaskRoleARN: "arn:t",
		LogGroup: "/wharf/apps/api", ConfigPrefix: "/wharf/apps/api/config/"}
	raw, _ := json.Marshal(s)
	if _, err := ParseSettings(raw, "wharf", "api"); err != nil {
		t.Fatal(err)
	}
	for field, mut := range map[string]func(*Settings){
		"settings.launchType":    func(s *Settings) { s.LaunchType = "LAMBDA" },
		"settings.subnets":       func(s *Settings) { s.Subnets = nil },
		"settings.configPrefix":  func(s *Settings) { s.ConfigPrefix = "/other/" },
		"settings.app":           func(s *Settings) { s.App = "web" },
		"settings.containerPort": func(s *Settings) { s.ContainerPort = 0 },
		"settings.version":       func(s *Settings) { s.Version = 2 },
	} {
		c := s
		mut(&c)
		raw, _ := json.Marshal(c)
		_, err := ParseSettings(raw, "wharf", "api")
		if fe := AsFieldError(err); fe == nil || fe.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}
