package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

const registry = `{"prefix":"wharf","accounts":[{"accountId":"111122223333","observerRoleArn":"arn:aws:iam::111122223333:role/wharf-account-observer","externalId":"x"}],
"apps":[{"name":"api","accountId":"111122223333","region":"eu-west-1","managementRoleArn":"arn:aws:iam::111122223333:role/wharf-app-api-management","externalId":"y"}]}`

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
		{"no registry", map[string]string{"WHARF_TABLE": "t1"}, "WHARF_REGISTRY is empty"},
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
