package descriptor_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/descriptor"
	"github.com/wharf-paas/wharf/contract"
)

func example(t *testing.T) *config.Platform {
	t.Helper()
	cfg, err := config.Load("../wharf.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestWriteExample writes the example platform's descriptor and reads it
// back as a client would.
func TestWriteExample(t *testing.T) {
	cfg := example(t)
	path, err := descriptor.Write(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "wharf-platform.json" {
		t.Errorf("path %s", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := contract.ParsePlatform(data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "https://login.example.com" || p.ClientID != "wharf-cli" || p.Region != "eu-west-1" || p.AccountID != "111122223333" || p.Prefix != "wharf" {
		t.Errorf("descriptor head = %+v", p)
	}
	if p.AdminRoleArn != "arn:aws:iam::111122223333:role/wharf-account-admin" {
		t.Errorf("adminRoleArn = %s", p.AdminRoleArn)
	}
	api := p.App("api")
	if api == nil {
		t.Fatalf("no app api in %+v", p.Apps)
	}
	want := contract.PlatformApp{
		Name: "api", AccountID: "111122223333", Region: "eu-west-1", Cluster: "main",
		URL:              "https://api.apps.example.com",
		UserRoleArn:      "arn:aws:iam::111122223333:role/wharf-app-api-user",
		LogGroup:         "/wharf/apps/api",
		DeployLogGroup:   "/wharf/apps/api/deploys",
		ActivityLogGroup: "/wharf/apps/api/activity",
		StatusParameter:  "/wharf/apps/api/status",
		ConfigPrefix:     "/wharf/apps/api/config/",
		CodeBuildProject: "wharf-api",
		ECSCluster:       "wharf-main",
		Database:         "main",
		Redis:            "cache",
	}
	got, _ := json.Marshal(api)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("app api:\n got %s\nwant %s", got, exp)
	}
	// An app without allowed users has no user role.
	cfg.Apps[1].AllowedUsers = nil
	if web := descriptor.FromConfig(cfg).App("web"); web == nil || web.UserRoleArn != "" {
		t.Errorf("web = %+v, want no user role", web)
	}
}

// TestNoSecretsOrEmails: the descriptor is handed to every user. Nothing
// of the config's emails, external IDs or subjects may reach it.
func TestNoSecretsOrEmails(t *testing.T) {
	cfg := example(t)
	cfg.Apps[0].AllowedSubjects = []string{"00u1secretsubject"}
	data, err := descriptor.Marshal(descriptor.FromConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{cfg.Account.ObserverExternalID, "00u1secretsubject", "@", cfg.ControlPlane.AlarmEmail}
	for _, a := range cfg.Apps {
		forbidden = append(forbidden, a.ManagementExternalID)
		forbidden = append(forbidden, a.AllowedUsers...)
	}
	forbidden = append(forbidden, cfg.Account.Administrators...)
	for _, f := range forbidden {
		if f != "" && strings.Contains(string(data), f) {
			t.Errorf("descriptor contains %q:\n%s", f, data)
		}
	}
	// A subject-only app still gets a user role.
	cfg.Apps[1].AllowedSubjects = []string{"abc"}
	if p := descriptor.FromConfig(cfg); p.App("web").UserRoleArn == "" {
		t.Error("app with allowedSubjects only has no user role ARN")
	}
}

// TestMarshalRefusesEmail: a value shaped like an email (say, a cluster
// domain typed wrongly) stops the write instead of leaking.
func TestMarshalRefusesEmail(t *testing.T) {
	cfg := example(t)
	p := descriptor.FromConfig(cfg)
	p.Apps[0].URL = "https://ops@example.com"
	if _, err := descriptor.Marshal(p); err == nil || !strings.Contains(err.Error(), "email") {
		t.Errorf("Marshal = %v, want an email refusal", err)
	}
	p = descriptor.FromConfig(cfg)
	p.Apps[0].ConfigPrefix = "/wharf/apps/api/config"
	if _, err := descriptor.Marshal(p); err == nil || !strings.Contains(err.Error(), "apps[0].configPrefix") {
		t.Errorf("Marshal = %v, want configPrefix error", err)
	}
}
