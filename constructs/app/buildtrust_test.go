package app_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-paas/wharf/constructs/app"
)

// Attacks on the build's trust decisions (issue 9, items 4 and 5 and the
// hardening lines on the pack checksum and the Docker Hub credential). Each
// runs the real build script in the stub sandbox, or reads the synthesized
// project, the way a hostile pusher would use it.

// TestAttackWebhookFilterIsAnchored: CodeBuild applies a HEAD_REF filter
// pattern as a regular expression. Unanchored, the filter of branch "main"
// also matches a pushed branch "main-x" (or "x-main"), whose build the
// control plane would deploy, bypassing the production branch's
// protection.
func TestAttackWebhookFilterIsAnchored(t *testing.T) {
	f := getFixture(t)
	p := props(t, f.apiJSON, "AppBuildC4D5B8FE")
	tr, _ := p["Triggers"].(map[string]interface{})
	groups, _ := tr["FilterGroups"].([]interface{})
	var pattern string
	for _, g := range groups {
		for _, flt := range g.([]interface{}) {
			m := flt.(map[string]interface{})
			if m["Type"] == "HEAD_REF" {
				pattern, _ = m["Pattern"].(string)
			}
		}
	}
	if pattern == "" {
		t.Fatalf("no HEAD_REF filter in %v", tr)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("pattern %q: %v", pattern, err)
	}
	if !re.MatchString("refs/heads/main") {
		t.Errorf("pattern %q does not match the app's branch", pattern)
	}
	for _, evil := range []string{"refs/heads/main-x", "refs/heads/x-main", "refs/heads/feature/main", "refs/tags/refs/heads/main"} {
		if re.MatchString(evil) {
			t.Errorf("pattern %q matches the attacker's ref %s: a push there builds and deploys", pattern, evil)
		}
	}
}

// TestAttackBuildRefusesAnotherBranch: a build whose resolved head ref is
// not the app's branch (a webhook filter mistake, a manual start with a
// source version) must fail before building anything, and a build of the
// branch records it in wharf-build.json so the control plane can refuse
// too.
func TestAttackBuildRefusesAnotherBranch(t *testing.T) {
	files := map[string]string{"Procfile": "web: bin/web\n", "Dockerfile": "FROM scratch\n"}
	for name, env := range map[string]map[string]string{
		"webhook push to main-x":  {"CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/main-x"},
		"manual source version":   {"CODEBUILD_WEBHOOK_HEAD_REF": "", "CODEBUILD_SOURCE_VERSION": "refs/heads/evil"},
		"manual commit elsewhere": {"CODEBUILD_WEBHOOK_HEAD_REF": "", "CODEBUILD_SOURCE_VERSION": "0badc0ffee0badc0ffee0badc0ffee0badc0ffee"},
		"tag named like branch":   {"CODEBUILD_WEBHOOK_HEAD_REF": "refs/tags/main"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t, files)
			for k, v := range env {
				s.env[k] = v
			}
			out, err := s.runAll("prepare", "build")
			if err == nil {
				t.Fatalf("the build of another ref succeeded:\n%s", out)
			}
			if s.index("docker push") >= 0 || s.index("docker build") >= 0 || s.index("docker buildx build") >= 0 {
				t.Errorf("the script built or pushed before refusing:\n%s", s.file("calls.log"))
			}
			if !strings.Contains(out, "not the app's branch main") {
				t.Errorf("the refusal does not say why:\n%s", out)
			}
		})
	}
	for name, env := range map[string]map[string]string{
		"webhook":              {"CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/main"},
		"manual, no version":   {"CODEBUILD_WEBHOOK_HEAD_REF": ""},
		"manual, branch name":  {"CODEBUILD_WEBHOOK_HEAD_REF": "", "CODEBUILD_SOURCE_VERSION": "main"},
		"manual, branch ref":   {"CODEBUILD_WEBHOOK_HEAD_REF": "", "CODEBUILD_SOURCE_VERSION": "refs/heads/main"},
		"branch with a slash.": {"CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/release/2.x", "WHARF_BRANCH": "release/2.x"},
	} {
		t.Run("accepts "+name, func(t *testing.T) {
			s := newSandbox(t, files)
			for k, v := range env {
				s.env[k] = v
			}
			if out, err := s.runAll("prepare", "build"); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			b, err := os.ReadFile(filepath.Join(s.repo, ".wharf", "wharf-build.json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]interface{}
			json.Unmarshal(b, &doc)
			if doc["branch"] != s.env["WHARF_BRANCH"] {
				t.Errorf("wharf-build.json branch = %v, want %s", doc["branch"], s.env["WHARF_BRANCH"])
			}
		})
	}
}

// TestAttackRepositoryCannotTrustItsBuilder: a repository names its own
// buildpacks builder. `pack build --trust-builder` gives that builder's
// phases the Docker daemon and the registry credentials, so a
// repository-chosen builder must never be trusted; only a builder pinned by
// digest in the platform config is, and then by its digest.
func TestAttackRepositoryCannotTrustItsBuilder(t *testing.T) {
	const pinned = "heroku/builder:24@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	cases := []struct {
		name, builder string
		trusted       bool
		want          string // the builder reference pack gets
	}{
		{"attacker's builder", "evil/builder:latest", false, "evil/builder:latest"},
		{"attacker's builder spoofing the name", "heroku/builder:24@sha256:2222222222222222222222222222222222222222222222222222222222222222", false,
			"heroku/builder:24@sha256:2222222222222222222222222222222222222222222222222222222222222222"},
		{"platform's builder by tag", "heroku/builder:24", true, pinned},
		{"platform's builder by digest", pinned, true, pinned},
		{"default builder", "", true, pinned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"Procfile": "web: bin/web\n"}
			if c.builder != "" {
				files["wharf.json"] = `{"build": {"system": "buildpacks", "builder": "` + c.builder + `"}}`
			}
			s := newSandbox(t, files)
			s.env["WHARF_TRUSTED_BUILDERS"] = pinned
			out, err := s.runAll("prepare", "build")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			i := s.index("pack build")
			if i < 0 {
				t.Fatalf("no pack build:\n%s", s.file("calls.log"))
			}
			call := s.calls()[i]
			if got := strings.Contains(call, "--trust-builder"); got != c.trusted {
				t.Errorf("--trust-builder = %v, want %v: %s", got, c.trusted, call)
			}
			if !strings.Contains(call, "--builder "+c.want+" ") {
				t.Errorf("pack did not get builder %s: %s", c.want, call)
			}
			if !c.trusted && !strings.Contains(out, "untrusted") {
				t.Errorf("the log does not say the builder runs untrusted:\n%s", out)
			}
		})
	}
}

// TestAttackPackChecksumIsPinned: the pack download is checked against a
// checksum in Wharf's code, not one fetched from the same place as the
// binary (whoever can replace one can replace both).
func TestAttackPackChecksumIsPinned(t *testing.T) {
	s := newSandbox(t, map[string]string{"Procfile": "web: bin/web\n"})
	s.withoutPack()
	// A tampered release and a matching checksum file, served where the
	// real ones live.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	body := []byte("#!/bin/sh\necho owned\n")
	// The member is not named pack: the script before the fix extracted
	// "pack" into /usr/local/bin, and a test must not write there.
	tw.WriteHeader(&tar.Header{Name: "pack-tampered", Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write(body)
	tw.Close()
	zw.Close()
	sum := sha256.Sum256(buf.Bytes())
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pack-v0.38.2-linux.tgz"), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "pack-v0.38.2-linux.tgz.sha256"), []byte(hex.EncodeToString(sum[:])+"  pack-v0.38.2-linux.tgz\n"), 0o644)
	s.env["STUB_CURL_DIR"] = dir
	s.env["WHARF_PACK_VERSION"] = "0.38.2"
	out, err := s.run("prepare")
	if err == nil {
		t.Errorf("prepare accepted a tampered pack:\n%s", out)
	}
	if strings.Contains(s.file("calls.log"), ".sha256") {
		t.Errorf("the checksum was fetched from the same place as the binary:\n%s", s.file("calls.log"))
	}
	if _, err := os.Stat(filepath.Join(s.env["WHARF_BIN_DIR"], "pack")); err == nil {
		t.Error("the tampered pack was installed")
	}
}

// TestAttackDockerHubCredentialLeavesBeforeAppCode: the account's Docker
// Hub token is for pulling base images. The app's own code (its tests,
// and everything the image runs) must not find it: the script logs out of
// Docker Hub as soon as the image is built, before anything of the app
// runs, and the credential is never passed into a container.
func TestAttackDockerHubCredentialLeavesBeforeAppCode(t *testing.T) {
	for _, system := range []string{"dockerfile", "buildpacks"} {
		t.Run(system, func(t *testing.T) {
			files := map[string]string{"Procfile": "web: bin/web\n"}
			if system == "dockerfile" {
				files["Dockerfile"] = "FROM scratch\n"
			}
			s := newSandbox(t, files)
			s.env["STUB_DOCKERHUB"] = "builder:dckr_pat_s3cr3t"
			s.env["WHARF_DOCKERHUB_PARAMETER"] = "/wharf/account/dockerhub"
			out, err := s.runAll("prepare", "build")
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			login := s.index("docker login --username builder")
			logout := s.lastIndex("docker logout")
			if login < 0 || logout < 0 {
				t.Fatalf("no Docker Hub login, or no logout (login %d, logout %d):\n%s", login, logout, s.file("calls.log"))
			}
			if c := s.calls()[logout]; strings.TrimSpace(c) != "docker logout" {
				t.Errorf("logout is not of Docker Hub: %q", c)
			}
			if system == "dockerfile" {
				// BuildKit pulls the base images; RUN steps never see the
				// client's credentials. Logged out once the build is done.
				// The image step's build (the publish step's cache export
				// comes later and pulls nothing).
				if built := s.index("docker buildx build --pull"); built < 0 || logout < built {
					t.Errorf("still logged in to Docker Hub after the image was built (build %d, logout %d):\n%s", built, logout, s.file("calls.log"))
				}
			} else {
				// pack runs the repository's buildpack code: the builder is
				// pulled while logged in, pack runs after the logout.
				pull, pack := s.index("docker pull"), s.index("pack build")
				if pull < 0 || pack < 0 || !(login < pull && pull < logout && logout < pack) {
					t.Errorf("want login < pull < logout < pack build, got %d %d %d %d:\n%s", login, pull, logout, pack, s.file("calls.log"))
				}
			}
			if run := s.index("docker run"); run >= 0 && run < logout {
				t.Errorf("the app's code ran (call %d) before the logout (call %d)", run, logout)
			}
			for _, c := range s.calls() {
				if strings.HasPrefix(c, "docker run") && (strings.Contains(c, ".docker") || strings.Contains(c, "docker.sock")) {
					t.Errorf("a container gets the Docker config or socket: %s", c)
				}
			}
			if strings.Contains(out, "dckr_pat_s3cr3t") {
				t.Error("the token reached the log")
			}
		})
	}
}

// TestWebhookBranchPatternQuotes: branch names with regular-expression
// metacharacters match only themselves.
func TestWebhookBranchPatternQuotes(t *testing.T) {
	re := regexp.MustCompile(app.WebhookBranchPattern("release/2.x"))
	if !re.MatchString("refs/heads/release/2.x") {
		t.Error("does not match its own branch")
	}
	for _, evil := range []string{"refs/heads/release/2yx", "refs/heads/release/2.x-evil", "refs/heads/release/2.x/evil"} {
		if re.MatchString(evil) {
			t.Errorf("%s matches %s", re, evil)
		}
	}
}

// TestTrustedBuildersMustBePinned: a builder the platform trusts is pinned
// by digest; a tag alone (which its publisher can move) is refused at synth.
func TestTrustedBuildersMustBePinned(t *testing.T) {
	p := validProps()
	p.TrustedBuilders = []string{"heroku/builder:24", app.DefaultTrustedBuilder}
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), `trustedBuilders[0] "heroku/builder:24": must be an image reference pinned by digest`) {
		t.Errorf("Validate() = %v", err)
	}
	p.TrustedBuilders = []string{app.DefaultTrustedBuilder}
	if err := p.Validate(); err != nil {
		t.Errorf("pinned builder refused: %v", err)
	}
}
