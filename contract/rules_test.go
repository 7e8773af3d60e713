package contract

import (
	"strings"
	"testing"
)

func rule(err error) string {
	if fe := AsFieldError(err); fe != nil {
		return fe.Rule
	}
	if err != nil {
		return "not a FieldError: " + err.Error()
	}
	return ""
}

func TestValidatePrefix(t *testing.T) {
	for p, want := range map[string]string{
		"wharf": "", "a": "", "acme2": "", strings.Repeat("a", 16): "",
		"":                      RuleRequired,
		strings.Repeat("a", 17): RuleLength,
		"acme-co":               RulePattern, // see ValidatePrefix: names of two prefixes would overlap
		"Wharf":                 RulePattern,
		"1wharf":                RulePattern,
		"wharf_":                RulePattern,
	} {
		err := ValidatePrefix(p)
		if got := rule(err); got != want {
			t.Errorf("ValidatePrefix(%q) rule = %q, want %q (%v)", p, got, want, err)
		}
		if err != nil && AsFieldError(err).Field != "prefix" {
			t.Errorf("ValidatePrefix(%q) field = %q", p, AsFieldError(err).Field)
		}
	}
}

// TestHyphenatedPrefixesWouldCollide shows why the prefix has no hyphen:
// with one, two installations derive the same names.
func TestHyphenatedPrefixesWouldCollide(t *testing.T) {
	a, b := Names{Prefix: "acme"}, Names{Prefix: "acme-co"}
	if a.Service("co-api", "web") != b.Service("api", "web") || a.CodeBuildProject("co-api") != b.CodeBuildProject("api") {
		t.Fatal("expected the collision that the prefix rule prevents")
	}
	if ValidatePrefix(b.Prefix) == nil {
		t.Fatal("a hyphenated prefix is accepted")
	}
}

func TestNameRules(t *testing.T) {
	cases := []struct {
		name  string
		check func(string) error
		in    string
		want  string
	}{
		{"app ok", ValidateAppName, "api-v2", ""},
		{"app short", ValidateAppName, "a", RuleLength},
		{"app long", ValidateAppName, strings.Repeat("a", 31), RuleLength},
		{"app double hyphen", ValidateAppName, "a--b", RulePattern},
		{"app trailing hyphen", ValidateAppName, "api-", RulePattern},
		{"app underscore", ValidateAppName, "a_b", RulePattern},
		{"app empty", ValidateAppName, "", RuleRequired},
		{"cluster 20", ValidateClusterName, strings.Repeat("c", 20), ""},
		{"cluster 21", ValidateClusterName, strings.Repeat("c", 21), RuleLength},
		{"database 30", ValidateDatabaseName, strings.Repeat("d", 30), ""},
		{"database upper", ValidateDatabaseName, "Main", RulePattern},
		{"redis 23", ValidateRedisName, strings.Repeat("r", 23), ""},
		{"redis 24", ValidateRedisName, strings.Repeat("r", 24), RuleLength},
		{"redis pattern", ValidateRedisName, "cache--x", RulePattern},
		{"process ok", ValidateProcessName, "worker2", ""},
		{"process release", ValidateProcessName, "release", RuleReserved},
		{"process hyphen", ValidateProcessName, "a-b", RulePattern},
		{"process 17", ValidateProcessName, strings.Repeat("p", 17), RuleLength},
		{"config var", ValidateConfigVar, "DATABASE_URL", ""},
		{"config var digit", ValidateConfigVar, "1X", RulePattern},
		{"config var long", ValidateConfigVar, strings.Repeat("X", MaxConfigVarLength+1), RuleLength},
		{"expression cron", ValidateScheduleExpression, "cron(0 3 * * ? *)", ""},
		{"expression rate", ValidateScheduleExpression, "rate(5 minutes)", ""},
		{"expression bare", ValidateScheduleExpression, "0 3 * * *", RulePattern},
		{"account", ValidateAccountID, "111122223333", ""},
		{"account short", ValidateAccountID, "1234", RulePattern},
		{"region", ValidateRegion, "us-gov-west-1", ""},
		{"region bad", ValidateRegion, "eu west", RulePattern},
		{"external id", ValidateExternalID, "x=1,y@z.a:b/c_d-e+f", ""},
		{"external id short", ValidateExternalID, "x", RulePattern},
	}
	for _, c := range cases {
		if got := rule(c.check(c.in)); got != c.want {
			t.Errorf("%s: %q rule = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestScheduleNameBoundDependsOnPrefixAndApp(t *testing.T) {
	long := Names{Prefix: strings.Repeat("p", MaxPrefixLength)}
	app := strings.Repeat("a", MaxAppNameLengthFor(long.Prefix))
	max := MaxScheduleNameLength(long.Prefix, app)
	if max != MinScheduleNameLength {
		t.Fatalf("longest prefix and app leave %d characters, want %d", max, MinScheduleNameLength)
	}
	if err := long.ValidateScheduleName(app, strings.Repeat("s", max)); err != nil {
		t.Fatalf("schedule name of the bound refused: %v", err)
	}
	err := long.ValidateScheduleName(app, strings.Repeat("s", max+1))
	if rule(err) != RuleLength || !strings.Contains(err.Error(), "at most 16") {
		t.Fatalf("schedule name over the bound: %v", err)
	}
	if got := len(long.ScheduleRule(app, strings.Repeat("s", max))); got != RuleNameLimit {
		t.Fatalf("rule name of the longest names is %d characters, want exactly %d", got, RuleNameLimit)
	}
	// Under the default prefix a short app gets the cap.
	if got := MaxScheduleNameLength(DefaultPrefix, "api"); got != MaxScheduleNameCap {
		t.Fatalf("wharf/api: %d", got)
	}
	// An app name that leaves too little room is refused where it is chosen.
	err = long.ValidateApp(app + "a")
	if rule(err) != RuleLength || !strings.Contains(err.Error(), "schedule") {
		t.Fatalf("app one character over the prefix-dependent bound: %v", err)
	}
	if err := (Names{Prefix: DefaultPrefix}).ValidateApp(strings.Repeat("a", 30)); err != nil {
		t.Fatalf("30-character app under the default prefix: %v", err)
	}
	for _, bad := range []string{"Nightly", "a--b", "nightly-", "-a", ""} {
		if (Names{Prefix: "wharf"}).ValidateScheduleName("api", bad) == nil {
			t.Errorf("schedule name %q accepted", bad)
		}
	}
}

func TestFieldErrorAt(t *testing.T) {
	e := Errorf("name", RulePattern, "bad")
	if got := e.At("apps[2]").Error(); got != "apps[2].name: bad" {
		t.Errorf("At = %q", got)
	}
	if got := Errorf("", RuleRequired, "x").At("prefix").Field; got != "prefix" {
		t.Errorf("At on empty field = %q", got)
	}
	if got := Errorf("[0]", RuleRequired, "x").At("apps").Field; got != "apps[0]" {
		t.Errorf("At on index = %q", got)
	}
	var es Errors
	es.AddErr("apps[0]", ValidateAppName("A"))
	es.AddErr("x", nil)
	if err := es.Err(); err == nil || AsFieldError(err).Field != "apps[0].name" {
		t.Errorf("Errors = %v", err)
	}
}

// TestBoundsAreTight: with the longest legal inputs, the names that set
// each bound reach their AWS limit exactly, so a longer input would not
// fit (apps/platform/assemble's TestLongestNamesFitAWSLimits checks every
// synthesized name against its limit).
func TestBoundsAreTight(t *testing.T) {
	n := Names{Prefix: strings.Repeat("p", MaxPrefixLength)}
	db := strings.Repeat("d", MaxDatabaseNameLength)
	app := strings.Repeat("a", MaxAppNameLengthFor(n.Prefix))
	sched := strings.Repeat("s", MaxScheduleNameLength(n.Prefix, app))
	for _, c := range []struct {
		what  string
		name  string
		limit int
	}{
		{"Lambda function <prefix>-database-<db>-manager", n.DatabaseManagerFunction(db), LambdaFunctionNameLimit},
		{"EventBridge rule <prefix>-<app>_schedule-<name>", n.ScheduleRule(app, sched), RuleNameLimit},
		{"ElastiCache replication group <prefix>-<redis>", n.RedisReplicationGroup(strings.Repeat("r", MaxRedisNameLength)), ElastiCacheIDLimit},
		{"SSM parameter /<prefix>/apps/<app>/config/<VAR> (30-character app)", Names{Prefix: n.Prefix}.ConfigParameter(strings.Repeat("a", MaxAppNameLength), strings.Repeat("V", MaxConfigVarLength)), SSMParameterNameLimit},
	} {
		t.Logf("%s: %d of %d", c.what, len(c.name), c.limit)
		if len(c.name) != c.limit {
			t.Errorf("%s is %d characters with the longest inputs; the bound should make it exactly %d", c.what, len(c.name), c.limit)
		}
	}
	if got := len(n.ManagementRole(app)); got > IAMRoleNameLimit {
		t.Errorf("management role %d > %d", got, IAMRoleNameLimit)
	}
	if got := len(Names{Prefix: "p"}.ManagementRole(strings.Repeat("a", MaxAppNameLengthFor("p")))); got > IAMRoleNameLimit {
		t.Errorf("management role under a short prefix %d > %d", got, IAMRoleNameLimit)
	}
}
