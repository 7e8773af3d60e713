package test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"
	"github.com/sivchari/kumo"

	"github.com/wharf-paas/wharf/contract"
	"github.com/wharf-paas/wharf/dbmanager"
	"github.com/wharf-paas/wharf/internal/pgtest"
	"github.com/wharf-paas/wharf/internal/rie"
)

// TestDBManagerUnderRIE runs the real lambda/dbmanager bootstrap under the
// Lambda Runtime Interface Emulator against a real PostgreSQL (pgtest) and
// an in-process Secrets Manager (kumo) holding the admin password, and
// drives every action through it, directly and as a custom resource.
func TestDBManagerUnderRIE(t *testing.T) {
	srv, err := pgtest.Start()
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})

	sm := kumo.NewServer()
	t.Cleanup(sm.Close)
	smClient := secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(sm.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	secret, err := smClient.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("wharf/database/main/admin"),
		SecretString: aws.String(`{"username":"` + pgtest.AdminUser + `","password":"` + srv.AdminPassword + `"}`),
	})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}

	bootstrap := rie.BuildBootstrap(t, "./lambda/dbmanager")
	fn := rie.Start(t, bootstrap, map[string]string{
		contract.DBManagerEnvHost:           srv.Host,
		contract.DBManagerEnvPort:           strconv.Itoa(srv.Port),
		contract.DBManagerEnvAdminUser:      pgtest.AdminUser,
		contract.DBManagerEnvAdminSecretARN: aws.ToString(secret.ARN),
		contract.DBManagerEnvSSLMode:        "disable",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER":  sm.URL,
		"AWS_LAMBDA_FUNCTION_NAME":          "wharf-dbmanager",
	})

	invoke := func(t *testing.T, req any) contract.DBResponse {
		t.Helper()
		payload, _ := json.Marshal(req)
		status, body, err := fn.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("invoke %s: %v", payload, err)
		}
		if status != http.StatusOK {
			t.Fatalf("invoke %s: status %d: %s", payload, status, body)
		}
		var resp contract.DBResponse
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields() // a Lambda error body would not decode
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("invoke %s: body %s is not a manager response: %v", payload, body, err)
		}
		return resp
	}
	ok := func(t *testing.T, resp contract.DBResponse, changed bool) {
		t.Helper()
		if !resp.OK || resp.Error != nil {
			t.Fatalf("%s failed: %+v", resp.Action, resp.Error)
		}
		if resp.Changed != changed {
			t.Errorf("%s: changed=%v, want %v", resp.Action, resp.Changed, changed)
		}
	}
	super := func(t *testing.T, db, q string, args ...any) string {
		t.Helper()
		conn, err := pgx.Connect(ctx, srv.SocketDSN(pgtest.Superuser, db))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		var s string
		if err := conn.QueryRow(ctx, q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}

	t.Run("create before enable-iam-auth fails with auth-failed", func(t *testing.T) {
		resp := invoke(t, contract.DBRequest{Action: contract.DBActionCreateDatabase, App: "early"})
		if resp.OK || resp.Error == nil || resp.Error.Rule != contract.DBRuleAuthFailed {
			t.Fatalf("want auth-failed, got %+v", resp)
		}
	})
	t.Run("enable-iam-auth reads the password from secrets manager once", func(t *testing.T) {
		ok(t, invoke(t, contract.DBRequest{Action: contract.DBActionEnableIAMAuth}), true)
		got := super(t, "postgres", `SELECT string_agg(r.rolname, ',') FROM pg_auth_members m
			JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1`, pgtest.AdminUser)
		if got != "rds_iam" {
			t.Errorf("admin memberships = %q, want rds_iam", got)
		}
		ok(t, invoke(t, contract.DBRequest{Action: contract.DBActionEnableIAMAuth}), false)
	})
	t.Run("create-database", func(t *testing.T) {
		resp := invoke(t, contract.DBRequest{Action: contract.DBActionCreateDatabase, App: "shop-api"})
		ok(t, resp, true)
		if resp.Database != "shop_api" || resp.Role != "shop_api" {
			t.Errorf("names: %+v", resp)
		}
		acl := super(t, "postgres", "SELECT datacl::text FROM pg_database WHERE datname = 'shop_api'")
		if acl != "{=T/shop_api,shop_api=CTc/shop_api}" {
			t.Errorf("datacl = %s", acl)
		}
		ok(t, invoke(t, contract.DBRequest{Action: contract.DBActionCreateDatabase, App: "shop-api"}), false)
	})
	t.Run("run-sql", func(t *testing.T) {
		req := contract.DBRequest{Action: contract.DBActionRunSQL, App: "shop-api", ID: "seed-1",
			SQL: "CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items VALUES (1, 'a'), (2, NULL); SELECT id, name FROM items ORDER BY id"}
		resp := invoke(t, req)
		ok(t, resp, true)
		if len(resp.Results) != 3 || resp.Results[1].Command != "INSERT 0 2" || len(resp.Results[2].Rows) != 2 || resp.Results[2].Rows[1][1] != nil {
			t.Errorf("results: %+v", resp.Results)
		}
		ok(t, invoke(t, req), false)
		if n := super(t, "shop_api", "SELECT count(*)::text FROM items"); n != "2" {
			t.Errorf("items after repeat = %s, want 2", n)
		}
		bad := invoke(t, contract.DBRequest{Action: contract.DBActionRunSQL, App: "shop-api", ID: "seed-2",
			SQL: "INSERT INTO items VALUES (3, 'c'); CREATE TABLE more (id int); INSERT INTO items VALUES (1, 'dup')"})
		if bad.OK || bad.Error == nil || bad.Error.Field != "sql" || bad.Error.Rule != contract.DBRuleStatementFailed || bad.Error.SQLState != "23505" {
			t.Fatalf("want statement-failed 23505 on field sql, got %+v", bad)
		}
		if got := super(t, "shop_api", "SELECT count(*)::text || coalesce(to_regclass('more')::text, '-') FROM items"); got != "2-" {
			t.Errorf("failed script left effects: %s", got)
		}
	})
	t.Run("invalid request names the field", func(t *testing.T) {
		resp := invoke(t, map[string]string{"action": "create-database", "app": "Bad_Name"})
		if resp.OK || resp.Error == nil || resp.Error.Field != "app" || resp.Error.Rule != contract.DBRulePattern {
			t.Errorf("got %+v", resp)
		}
		resp = invoke(t, map[string]string{"action": "create-database", "databse": "x"})
		if resp.Error == nil || resp.Error.Field != "databse" || resp.Error.Rule != contract.DBRuleUnknown {
			t.Errorf("got %+v", resp)
		}
	})
	t.Run("custom resource", func(t *testing.T) {
		var mu sync.Mutex
		var puts []dbmanager.CustomResourceResponse
		cfn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var out dbmanager.CustomResourceResponse
			if r.Method != http.MethodPut || json.Unmarshal(b, &out) != nil {
				t.Errorf("bad response upload: %s %s", r.Method, b)
			}
			mu.Lock()
			puts = append(puts, out)
			mu.Unlock()
		}))
		defer cfn.Close()
		event := func(reqType, physical string, props map[string]any) map[string]any {
			return map[string]any{
				"RequestType": reqType, "ResponseURL": cfn.URL + "/response?X-Amz-Signature=x",
				"StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/wharf-app-blog/1", "RequestId": "req-" + reqType,
				"ResourceType": "Custom::WharfDatabase", "LogicalResourceId": "Database", "PhysicalResourceId": physical,
				"ResourceProperties": props,
			}
		}
		last := func(t *testing.T) dbmanager.CustomResourceResponse {
			t.Helper()
			mu.Lock()
			defer mu.Unlock()
			if len(puts) == 0 {
				t.Fatal("no response was PUT to the ResponseURL")
			}
			out := puts[len(puts)-1]
			puts = nil
			return out
		}
		cfnInvoke := func(t *testing.T, ev map[string]any) {
			t.Helper()
			payload, _ := json.Marshal(ev)
			status, body, err := fn.Invoke(ctx, payload)
			if err != nil || status != 200 || string(body) != "null" {
				t.Fatalf("invoke: status %d body %s err %v", status, body, err)
			}
		}
		props := map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:x", "Action": "create-database", "App": "blog", "DropOnDelete": "true"}
		cfnInvoke(t, event("Create", "", props))
		out := last(t)
		if out.Status != "SUCCESS" || out.PhysicalResourceID != "wharf-database:blog" || out.Data["Database"] != "blog" || out.RequestID != "req-Create" {
			t.Fatalf("create response: %+v", out)
		}
		if super(t, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = 'blog'") != "1" {
			t.Fatal("custom resource did not create the database")
		}
		cfnInvoke(t, event("Delete", "wharf-database:blog", props))
		if out := last(t); out.Status != "SUCCESS" || out.PhysicalResourceID != "wharf-database:blog" {
			t.Fatalf("delete response: %+v", out)
		}
		if super(t, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = 'blog'") != "0" {
			t.Fatal("custom resource with DropOnDelete did not drop the database")
		}
		cfnInvoke(t, event("Create", "", map[string]any{"Action": "create-database", "App": "-bad"}))
		if out := last(t); out.Status != "FAILED" || !strings.Contains(out.Reason, "App: ") || !strings.HasPrefix(out.PhysicalResourceID, "wharf-failed:") {
			t.Fatalf("invalid create response: %+v", out)
		}
	})
	t.Run("configuration error fails requests instead of crashing", func(t *testing.T) {
		broken := rie.Start(t, bootstrap, map[string]string{contract.DBManagerEnvAdminUser: pgtest.AdminUser})
		status, body, err := broken.Invoke(ctx, []byte(`{"action":"enable-iam-auth"}`))
		if err != nil || status != http.StatusOK {
			t.Fatalf("status %d err %v body %s", status, err, body)
		}
		var resp contract.DBResponse
		if err := json.Unmarshal(body, &resp); err != nil || resp.OK || resp.Error == nil ||
			resp.Error.Rule != contract.DBRuleConfig || !strings.Contains(resp.Error.Message, contract.DBManagerEnvHost) {
			t.Errorf("want a config error naming %s, got %s", contract.DBManagerEnvHost, body)
		}
	})
	t.Run("destroy-database", func(t *testing.T) {
		ok(t, invoke(t, contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: "shop-api"}), true)
		if got := super(t, "postgres", "SELECT (count(*) FILTER (WHERE datname = 'shop_api'))::text FROM pg_database"); got != "0" {
			t.Errorf("database still there")
		}
		ok(t, invoke(t, contract.DBRequest{Action: contract.DBActionDestroyDatabase, App: "shop-api"}), false)
	})
}
