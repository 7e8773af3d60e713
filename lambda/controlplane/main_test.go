package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/wharf-paas/wharf/controlplane"
)

const registry = `{"prefix":"wharf","accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/wharf-account-observer","externalId":"xx"}],
"apps":[{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/wharf-app-api-management","externalId":"yy"}]}`

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestReadSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"ok", map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": registry}, ""},
		{"no table", map[string]string{"WHARF_REGISTRY": registry}, "WHARF_TABLE is empty"},
		{"no registry", map[string]string{"WHARF_TABLE": "t1"}, "no registry: set WHARF_REGISTRY_FILE"},
		{"bad json", map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": "{"}, "WHARF_REGISTRY: registry"},
		{"unknown field", map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": `{"apps":[],"extra":1}`}, "WHARF_REGISTRY: registry"},
		{"app in unregistered account", map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": strings.Replace(registry, `"accountId":"111122223333","region"`, `"accountId":"999999999999","region"`, 1)}, "not a registered account"},
		{"prefix mismatch", map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": registry, "WHARF_PREFIX": "acme"}, "must match"},
		{"bad path style", map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": registry, "WHARF_S3_PATH_STYLE": "maybe"}, "WHARF_S3_PATH_STYLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readSettings(env(tc.env))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestReadSettingsPrefixAndOverrides(t *testing.T) {
	s, err := readSettings(env(map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY": `{"accounts":[],"apps":[]}`, "WHARF_PREFIX": "acme"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.registry.Prefix != "acme" || s.pathStyle || s.override {
		t.Errorf("settings = %+v, want prefix acme from WHARF_PREFIX, no overrides", s)
	}
	s, err = readSettings(env(map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY": registry, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}))
	if err != nil {
		t.Fatal(err)
	}
	if !s.pathStyle || !s.override {
		t.Errorf("S3 endpoint override did not select path style: %+v", s)
	}
}

func TestSetupBuildsControlPlane(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	cp, err := setup(context.Background(), env(map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY": registry}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil || cp == nil {
		t.Fatalf("setup: %v", err)
	}
	if _, err := setup(context.Background(), env(map[string]string{"WHARF_TABLE": "t1"}), slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Errorf("setup without registry succeeded")
	}
}

// writeFile writes content to a new file in a temp folder and returns its
// path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "registry.json")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadSettingsRegistryFile(t *testing.T) {
	good := writeFile(t, registry+"\n")
	missing := filepath.Join(t.TempDir(), "nope.json")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr []string
	}{
		{"file", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": good}, nil},
		// The file wins: WHARF_REGISTRY is not even parsed.
		{"file over env", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": good, "WHARF_REGISTRY": "{"}, nil},
		{"missing file", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": missing, "WHARF_REGISTRY": registry},
			[]string{"WHARF_REGISTRY_FILE " + missing, "cannot read the registry file", "no such file"}},
		{"folder", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": t.TempDir()}, []string{"WHARF_REGISTRY_FILE /", "cannot read the registry file"}},
		{"empty file", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": writeFile(t, " \n")}, []string{"WHARF_REGISTRY_FILE /", "registry file is empty"}},
		{"bad json", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": writeFile(t, "{")}, []string{"WHARF_REGISTRY_FILE /", "registry.json: registry"}},
		{"invalid registry", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": writeFile(t, `{"accounts":[{"accountId":"12"}]}`)},
			[]string{"WHARF_REGISTRY_FILE /", "accounts[0].accountId"}},
		{"file prefix mismatch", map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": good, "WHARF_PREFIX": "acme"}, []string{"must match"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := readSettings(env(tc.env))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(s.registry.Apps) != 1 || s.registry.Apps[0].Name != "api" || s.registry.Prefix != "wharf" {
					t.Errorf("registry from the file = %+v", s.registry)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %v, want one containing %q", err, w)
				}
			}
		})
	}
	// A prefix from WHARF_PREFIX fills in a file's missing one, as for
	// WHARF_REGISTRY.
	s, err := readSettings(env(map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY_FILE": writeFile(t, `{"accounts":[],"apps":[]}`), "WHARF_PREFIX": "acme"}))
	if err != nil || s.registry.Prefix != "acme" {
		t.Errorf("prefix from WHARF_PREFIX with a file: %+v, %v", s.registry, err)
	}
}

func TestReadSettingsAccountID(t *testing.T) {
	base := map[string]string{"WHARF_TABLE": "t", "WHARF_REGISTRY": registry}
	with := func(v string) map[string]string {
		m := map[string]string{"WHARF_ACCOUNT_ID": v}
		for k, x := range base {
			m[k] = x
		}
		return m
	}
	s, err := readSettings(env(base))
	if err != nil || s.account != "" {
		t.Fatalf("unset WHARF_ACCOUNT_ID: account %q, %v; want empty (any account)", s.account, err)
	}
	s, err = readSettings(env(with("999988887777")))
	if err != nil || s.account != "999988887777" {
		t.Fatalf("WHARF_ACCOUNT_ID 999988887777: account %q, %v", s.account, err)
	}
	for _, bad := range []string{"12345", "9999888877770", "99998888777a", " 999988887777", "arn:aws:iam::999988887777:root"} {
		_, err := readSettings(env(with(bad)))
		if err == nil || !strings.Contains(err.Error(), "WHARF_ACCOUNT_ID") || !strings.Contains(err.Error(), "12-digit") {
			t.Errorf("WHARF_ACCOUNT_ID %q: err = %v, want one naming the variable", bad, err)
		}
	}
}

// setup passes WHARF_ACCOUNT_ID to the control plane as SweepAccountID: a
// sweep from another account is rejected before any AWS call, while
// without it the sweep runs (and reaches the store).
func TestSetupRestrictsSweepToOwnAccount(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"com.amazon.coral.validate#ValidationException","message":"test server"}`)
	}))
	defer srv.Close()
	sweep := events.CloudWatchEvent{ID: "s1", Source: "aws.events", DetailType: "Scheduled Event",
		AccountID: "111122223333", Region: "eu-west-1", Time: time.Now(), Detail: []byte(`{"wharf":"sweep"}`)}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := map[string]string{"WHARF_TABLE": "t1", "WHARF_REGISTRY_FILE": writeFile(t, registry), "WHARF_ENDPOINT_URL": srv.URL}

	restricted := map[string]string{"WHARF_ACCOUNT_ID": "999988887777"}
	for k, v := range base {
		restricted[k] = v
	}
	cp, err := setup(context.Background(), env(restricted), logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.Handle(context.Background(), sweep); err != nil {
		t.Fatalf("foreign sweep: %v", err)
	}
	if n := requests.Load(); n != 0 || cp.Stats()["rejected:"+controlplane.RejectSweepAccount] != 1 || cp.Stats()[controlplane.CountSweep] != 0 {
		t.Fatalf("foreign sweep with WHARF_ACCOUNT_ID set: %d requests, stats %v; want rejected, no request", n, cp.Stats())
	}

	open, err := setup(context.Background(), env(base), logger)
	if err != nil {
		t.Fatal(err)
	}
	_ = open.Handle(context.Background(), sweep) // the test server fails the store's read
	if n := requests.Load(); n == 0 || open.Stats()[controlplane.CountSweep] != 1 {
		t.Fatalf("sweep without WHARF_ACCOUNT_ID: %d requests, stats %v; want it swept", n, open.Stats())
	}
}
