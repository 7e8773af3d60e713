// Package cdktest holds the helpers every CDK test binary in Wharf shares: one
// jsii kernel per binary, assertion panics turned into test failures, and the
// cdk-nag AwsSolutions gate.
package cdktest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Main runs the tests of one package and closes the jsii kernel once at the
// end. Call it from TestMain: func TestMain(m *testing.M) { cdktest.Main(m) }.
func Main(m *testing.M) {
	// Node 20 is end-of-life for jsii; the banner it prints at every kernel
	// start is noise in test output.
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	SweepStaleRuntimes(os.TempDir(), StaleRuntimeAge)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// StaleRuntimeAge is how old a jsii-runtime.* directory must be before
// SweepStaleRuntimes removes it: far longer than any test binary or synth
// runs, so a directory still in use by another process is never touched.
const StaleRuntimeAge = 24 * time.Hour

// SweepStaleRuntimes removes the jsii-runtime.* directories in dir older
// than age. jsii-runtime-go extracts its Node runtime into such a directory
// at kernel start and removes it in jsii.Close (which Main calls); a test
// binary that panics, times out or is killed never gets there, and its
// directory (about 10 MB) stays in the temp folder. Errors are ignored:
// the sweep is housekeeping, never a reason to fail the tests.
func SweepStaleRuntimes(dir string, age time.Duration) (removed []string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "jsii-runtime.*"))
	for _, m := range matches {
		fi, err := os.Lstat(m)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < age {
			continue
		}
		if os.RemoveAll(m) == nil {
			removed = append(removed, m)
		}
	}
	return removed
}

// Check runs fn and turns a jsii assertion panic into t.Errorf, so one
// failing assertion does not abort every later test in the binary.
func Check(t testing.TB, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	fn()
}

// NewApp returns an App with the AwsSolutions cdk-nag pack applied (reports
// off) and an output directory under t.TempDir().
func NewApp(t testing.TB) awscdk.App {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	AddNag(app)
	return app
}

// AddNag adds the cdk-nag AwsSolutions checks to scope. It must run before
// anything synthesizes the app.
func AddNag(scope awscdk.App) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false)}), nil)
}

// Template synthesizes stack and returns its assertions template.
func Template(t testing.TB, stack awscdk.Stack) assertions.Template {
	t.Helper()
	var tpl assertions.Template
	Check(t, func() { tpl = assertions.Template_FromStack(stack, nil) })
	return tpl
}

// TemplateJSON synthesizes stack and returns its template as decoded JSON,
// for tests that walk resources by type.
func TemplateJSON(t testing.TB, stack awscdk.Stack) map[string]any {
	t.Helper()
	b, err := json.Marshal(Template(t, stack).ToJSON())
	if err != nil {
		t.Fatalf("encode the template of %s: %v", *stack.StackName(), err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode the template of %s: %v", *stack.StackName(), err)
	}
	return m
}

// ResourcesOfType returns the resources of tpl (a TemplateJSON) whose Type
// is typ, by logical ID.
func ResourcesOfType(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		rm := r.(map[string]any)
		if rm["Type"] == typ {
			out[id] = rm
		}
	}
	return out
}

// Properties is a resource's Properties (nil when it has none).
func Properties(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// AssertNagClean fails t for every unsuppressed cdk-nag error or warning on
// stack; the failure lists each finding with its construct path. The app must
// have been created with NewApp (or AddNag).
//
// It reads the findings from the app's cloud assembly as synthesized
// already (Template and other assertions synthesize the same one), so a
// fixture of several stacks is synthesized once, not once per call:
// assertions.Annotations_FromStack forces a new synthesis of the whole app
// on every call.
func AssertNagClean(t testing.TB, stack awscdk.Stack) {
	t.Helper()
	var dir string
	Check(t, func() { dir = *awscdk.Stage_Of(stack).Synth(nil).Directory() })
	if dir == "" {
		return
	}
	findings, err := NagFindings(dir, *stack.ArtifactId())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("cdk-nag: %s", f)
	}
}

// NagFindings returns the cdk-nag AwsSolutions errors and warnings that
// the cloud assembly in dir records for the stack artifact, each as
// "<construct path> <error|warning>: <finding>", sorted. It reads
// manifest.json (and the artifact's metadata file, when CDK writes the
// metadata apart).
func NagFindings(dir, artifact string) ([]string, error) {
	type entry struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	var m struct {
		Artifacts map[string]struct {
			Metadata     map[string][]entry `json:"metadata"`
			MetadataFile string             `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("cdktest: read the assembly manifest: %w", err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("cdktest: parse the assembly manifest: %w", err)
	}
	a, ok := m.Artifacts[artifact]
	if !ok {
		return nil, fmt.Errorf("cdktest: %s is not in the assembly", artifact)
	}
	meta := a.Metadata
	if a.MetadataFile != "" {
		raw, err := os.ReadFile(filepath.Join(dir, a.MetadataFile))
		if err != nil {
			return nil, fmt.Errorf("cdktest: %s: read metadata: %w", artifact, err)
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, fmt.Errorf("cdktest: %s: parse metadata: %w", artifact, err)
		}
	}
	if len(meta) == 0 {
		return nil, fmt.Errorf("cdktest: %s has no metadata in the assembly; cannot check cdk-nag", artifact)
	}
	var out []string
	for path, entries := range meta {
		for _, e := range entries {
			msg, _ := e.Data.(string)
			if (e.Type == "aws:cdk:error" || e.Type == "aws:cdk:warning") && strings.HasPrefix(msg, "AwsSolutions-") {
				out = append(out, fmt.Sprintf("%s %s: %s", path, strings.TrimPrefix(e.Type, "aws:cdk:"), msg))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
