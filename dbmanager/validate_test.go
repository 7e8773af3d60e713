package dbmanager_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
)

func TestRequestValidation(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		name        string
		req         contract.DBRequest
		field, rule string
	}{
		{"no action", contract.DBRequest{}, "action", contract.DBRuleRequired},
		{"unknown action", contract.DBRequest{Action: "drop-everything"}, "action", contract.DBRuleUnknown},
		{"create without target", contract.DBRequest{Action: "create-database"}, "app", contract.DBRuleRequired},
		{"app upper case", contract.DBRequest{Action: "create-database", App: "Shop"}, "app", contract.DBRulePattern},
		{"app underscore", contract.DBRequest{Action: "create-database", App: "shop_api"}, "app", contract.DBRulePattern},
		{"app double hyphen", contract.DBRequest{Action: "create-database", App: "shop--api"}, "app", contract.DBRulePattern},
		{"app trailing hyphen", contract.DBRequest{Action: "create-database", App: "shop-"}, "app", contract.DBRulePattern},
		{"app too long", contract.DBRequest{Action: "create-database", App: strings.Repeat("a", 31)}, "app", contract.DBRulePattern},
		{"app injection", contract.DBRequest{Action: "create-database", App: `x"; DROP DATABASE postgres; --`}, "app", contract.DBRulePattern},
		{"app maps to reserved prefix", contract.DBRequest{Action: "create-database", App: "pg-stats"}, "app", contract.DBRuleReserved},
		{"app maps to reserved name", contract.DBRequest{Action: "destroy-database", App: "postgres"}, "app", contract.DBRuleReserved},
		{"app maps to the manager's own database", contract.DBRequest{Action: "run-sql", App: "wharf-manager", ID: "x", SQL: "SELECT 1"}, "app", contract.DBRuleReserved},
		{"app and database disagree", contract.DBRequest{Action: "create-database", App: "shop-api", Database: "shop"}, "database", contract.DBRuleMismatch},
		{"database pattern", contract.DBRequest{Action: "create-database", Database: "Shop"}, "database", contract.DBRulePattern},
		{"database hyphen", contract.DBRequest{Action: "create-database", Database: "shop-api"}, "database", contract.DBRulePattern},
		{"database too long", contract.DBRequest{Action: "create-database", Database: long}, "database", contract.DBRulePattern},
		{"database template", contract.DBRequest{Action: "destroy-database", Database: "template1"}, "database", contract.DBRuleReserved},
		{"database rds", contract.DBRequest{Action: "destroy-database", Database: "rdsadmin"}, "database", contract.DBRuleReserved},
		{"database rds prefix", contract.DBRequest{Action: "create-database", Database: "rds_iam"}, "database", contract.DBRuleReserved},
		{"database public", contract.DBRequest{Action: "create-database", Database: "public"}, "database", contract.DBRuleReserved},
		{"create with sql", contract.DBRequest{Action: "create-database", App: "shop", SQL: "SELECT 1"}, "sql", contract.DBRuleNotAllowed},
		{"destroy with id", contract.DBRequest{Action: "destroy-database", App: "shop", ID: "x"}, "id", contract.DBRuleNotAllowed},
		{"enable with app", contract.DBRequest{Action: "enable-iam-auth", App: "shop"}, "app", contract.DBRuleNotAllowed},
		{"run-sql without id", contract.DBRequest{Action: "run-sql", App: "shop", SQL: "SELECT 1"}, "id", contract.DBRuleRequired},
		{"run-sql bad id", contract.DBRequest{Action: "run-sql", App: "shop", SQL: "SELECT 1", ID: "a b"}, "id", contract.DBRulePattern},
		{"run-sql without sql", contract.DBRequest{Action: "run-sql", App: "shop", ID: "x"}, "sql", contract.DBRuleRequired},
		{"run-sql only comments", contract.DBRequest{Action: "run-sql", App: "shop", ID: "x", SQL: "-- nothing\n/* here */ ;"}, "sql", contract.DBRuleRequired},
		{"run-sql too big", contract.DBRequest{Action: "run-sql", App: "shop", ID: "x", SQL: strings.Repeat(" ", contract.DBMaxSQLBytes+1)}, "sql", contract.DBRuleTooLong},
		{"run-sql without target", contract.DBRequest{Action: "run-sql", ID: "x", SQL: "SELECT 1"}, "app", contract.DBRuleRequired},
	}
	// Validation happens before any connection: this manager points at a
	// port nobody listens on.
	m, err := dbmanager.NewManager(dbmanager.Config{Host: "127.0.0.1", Port: 1, AdminUser: "admin", SSLMode: "disable"}, staticTokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, m.Do(context.Background(), tc.req), tc.field, tc.rule)
		})
	}
}

func TestDatabaseNameForApp(t *testing.T) {
	for app, want := range map[string]string{"api": "api", "shop-api": "shop_api", "a1-b2-c3": "a1_b2_c3"} {
		got, err := dbmanager.DatabaseNameForApp(app)
		if err != nil || got != want {
			t.Errorf("DatabaseNameForApp(%q) = %q, %v; want %q", app, got, err, want)
		}
	}
	if _, err := dbmanager.DatabaseNameForApp("Shop"); err == nil {
		t.Error("DatabaseNameForApp accepted an upper-case name")
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct{ payload, field, rule string }{
		{`{"action":"create-database","databse":"x"}`, "databse", contract.DBRuleUnknown},
		{`{"action":1}`, "action", contract.DBRuleInvalidJSON},
		{`[1,2]`, "", contract.DBRuleInvalidJSON},
		{`not json`, "", contract.DBRuleInvalidJSON},
	} {
		_, err := dbmanager.ParseRequest([]byte(tc.payload))
		var e *dbmanager.Error
		if !errors.As(err, &e) || e.Field != tc.field || e.Rule != tc.rule {
			t.Errorf("ParseRequest(%s) = %v, want field %q rule %q", tc.payload, err, tc.field, tc.rule)
		}
	}
	r, err := dbmanager.ParseRequest([]byte(`{"action":"run-sql","app":"a-b","sql":"SELECT 1","id":"x"}`))
	if err != nil || r.App != "a-b" || r.SQL != "SELECT 1" || r.ID != "x" {
		t.Errorf("ParseRequest = %+v, %v", r, err)
	}
}

func TestIAMTokens(t *testing.T) {
	tok, err := staticTokens.AuthToken(context.Background(), "db.cluster-abc.eu-west-1.rds.amazonaws.com:5432", "shop_api")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"db.cluster-abc.eu-west-1.rds.amazonaws.com:5432?Action=connect&",
		"Action=connect", "DBUser=shop_api", "X-Amz-Algorithm=AWS4-HMAC-SHA256",
		"X-Amz-Credential=AKIDEXAMPLE%2F", "%2Feu-west-1%2Frds-db%2Faws4_request", "X-Amz-Expires=900", "X-Amz-Signature=",
	} {
		if !strings.Contains(tok, want) {
			t.Errorf("token lacks %q: %s", want, tok)
		}
	}
	if strings.HasPrefix(tok, "https://") {
		t.Errorf("token keeps the scheme: %s", tok)
	}
	if _, err := staticTokens.AuthToken(context.Background(), "db.example.com", "u"); err == nil || !strings.Contains(err.Error(), "port") {
		t.Errorf("endpoint without port: want an error about the port, got %v", err)
	}
	if _, err := (dbmanager.IAMTokens{Credentials: staticTokens.Credentials}).AuthToken(context.Background(), "h:1", "u"); err == nil {
		t.Error("no region: want an error")
	}
}

type fakeSecrets struct {
	value string
	err   error
	asked []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.SecretId))
	if f.err != nil {
		return nil, f.err
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
}

func TestSecretPassword(t *testing.T) {
	for value, want := range map[string]string{
		`{"username":"admin","password":"p@ss","engine":"postgres"}`: "p@ss",
		`bare-password`: "bare-password",
	} {
		f := &fakeSecrets{value: value}
		got, err := (&dbmanager.SecretPassword{Client: f, SecretID: "arn:secret"}).AdminPassword(context.Background())
		if err != nil || got != want || len(f.asked) != 1 || f.asked[0] != "arn:secret" {
			t.Errorf("secret %s: got %q, %v (asked %v)", value, got, err, f.asked)
		}
	}
	for _, f := range []*fakeSecrets{{value: `{"username":"x"}`}, {value: `{bad`}, {value: ""}, {err: errors.New("boom")}} {
		if _, err := (&dbmanager.SecretPassword{Client: f, SecretID: "s"}).AdminPassword(context.Background()); err == nil {
			t.Errorf("secret %q / %v: want an error", f.value, f.err)
		}
	}
	if _, err := (&dbmanager.SecretPassword{Client: &fakeSecrets{}}).AdminPassword(context.Background()); err == nil ||
		!strings.Contains(err.Error(), contract.DBManagerEnvAdminSecretARN) {
		t.Errorf("no secret id: want an error naming %s, got %v", contract.DBManagerEnvAdminSecretARN, err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		contract.DBManagerEnvHost: "db.example", contract.DBManagerEnvAdminUser: "wharf_admin", contract.DBManagerEnvAdminSecretARN: "arn:s",
	}
	cfg, arn, err := dbmanager.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.Port != 5432 || cfg.SSLMode != "verify-full" || cfg.RootCAs == nil || cfg.MaintenanceDatabase != "postgres" || arn != "arn:s" {
		t.Errorf("defaults: %+v %q %v", cfg, arn, err)
	}
	for k, v := range map[string]string{
		contract.DBManagerEnvHost: "", contract.DBManagerEnvAdminUser: "", contract.DBManagerEnvPort: "70000", contract.DBManagerEnvSSLMode: "sometimes",
	} {
		bad := map[string]string{}
		for a, b := range env {
			bad[a] = b
		}
		bad[k] = v
		_, _, err := dbmanager.ConfigFromEnv(func(k string) string { return bad[k] })
		var e *dbmanager.Error
		if !errors.As(err, &e) || e.Field != k || e.Rule != contract.DBRuleConfig {
			t.Errorf("%s=%q: want a config error naming it, got %v", k, v, err)
		}
	}
}
