package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// schemaSerde matches the aws-sdk-go-v2 packages that hold a service's
// schema-based (de)serialization tables. Their package variables are built
// eagerly at init: in the control plane's binary they took about 25 of the
// 40 ms of package init and doubled its cold start (docs/performance.md,
// "Control plane cold start, relative to a hello-world Lambda").
var schemaSerde = regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/service/[^/]+/schemas$`)

// TestBootstrapLinksNoSchemaSerde lists the packages that the control
// plane's bootstrap, and the database manager's, link, built as lambdabuild
// builds them (linux, arm64, no cgo, tag lambda.norpc), and fails if any is
// an SDK service's schemas package. go.mod pins the service modules that the
// Lambdas use to their last releases before schema-based serde; a dependency
// bump that brings one back must be a conscious choice, made with the cold
// start measured again.
func TestBootstrapLinksNoSchemaSerde(t *testing.T) {
	for _, bootstrap := range []struct{ dir, client string }{
		{".", "github.com/aws/aws-sdk-go-v2/service/ecs"},
		{"../dbmanager", "github.com/aws/aws-sdk-go-v2/service/secretsmanager"},
	} {
		t.Run(bootstrap.dir, func(t *testing.T) {
			checkNoSchemaSerde(t, bootstrap.dir, bootstrap.client)
		})
	}
}

// checkNoSchemaSerde fails t if the main package in dir links a schemas
// package; client is an SDK client package it must link, without which the
// listing would prove nothing.
func checkNoSchemaSerde(t *testing.T, dir, client string) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", dir)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps %s: %v\n%s", dir, err, stderr)
	}
	pkgs := strings.Fields(string(out))
	if !slices.Contains(pkgs, client) {
		t.Fatalf("go list -deps %s returned %d packages without %s; the check would prove nothing:\n%s", dir, len(pkgs), client, out)
	}
	var linked []string
	for _, p := range pkgs {
		if schemaSerde.MatchString(p) {
			linked = append(linked, p)
		}
	}
	if len(linked) > 0 {
		t.Errorf("the bootstrap in %s links the SDK's schema-based serde tables:\n  %s\n"+
			"Each is built eagerly at package init and adds milliseconds to every cold start (issue 8 asks for at most 1.5x a hello-world Lambda).\n"+
			"Pin the service module to its release before \"Enable schema-based (de)serialization for this service\" (its CHANGELOG.md), "+
			"or, if the newer version is needed, re-measure BenchmarkColdStartRatio and BenchmarkBootstrapInitCPU (test/) and record the new ratio "+
			"in docs/performance.md, section \"Control plane cold start, relative to a hello-world Lambda\", before relaxing this test.",
			dir, strings.Join(linked, "\n  "))
	}
}
