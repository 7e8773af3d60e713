package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	testAccount = "111122223333"
	testRegion  = "eu-west-1"
)

var testAZs = []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}

func testEnv() *awscdk.Environment {
	return &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}
}

// newTestApp returns a cdk-nag app with the availability-zones context set,
// as the platform app does.
func newTestApp(t *testing.T) awscdk.App {
	t.Helper()
	app := cdktest.NewApp(t)
	if err := SetAvailabilityZonesContext(app, testAccount, testRegion, testAZs); err != nil {
		t.Fatalf("set context: %v", err)
	}
	return app
}

// synthesized is one stack's template after the app's single synthesis,
// both as an assertions.Template and as plain JSON.
type synthesized struct {
	tpl assertions.Template
	raw map[string]interface{}
}

// templates synthesizes app once (cached after cdktest.AssertNagClean) and
// reads the stacks' templates from the cloud assembly. It does not use
// Template_FromStack: that re-synthesizes the app, and an ECS cluster with
// capacity providers cannot be synthesized twice (its capacity-provider
// association aspect adds the same child again).
func templates(t *testing.T, app awscdk.App, stacks ...awscdk.Stack) ([]synthesized, map[string]interface{}) {
	t.Helper()
	asm := app.Synth(nil)
	out := make([]synthesized, 0, len(stacks))
	for _, st := range stacks {
		b, err := os.ReadFile(*asm.GetStackArtifact(st.ArtifactId()).TemplateFullPath())
		if err != nil {
			t.Fatalf("read template of %s: %v", *st.StackName(), err)
		}
		var raw map[string]interface{}
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("parse template of %s: %v", *st.StackName(), err)
		}
		var tpl assertions.Template
		cdktest.Check(t, func() { tpl = assertions.Template_FromString(jsii.String(string(b)), nil) })
		out = append(out, synthesized{tpl: tpl, raw: raw})
	}
	b, err := os.ReadFile(filepath.Join(*asm.Directory(), "manifest.json"))
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	var manifest map[string]interface{}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatalf("parse manifest: %v", err)
	}
	return out, manifest
}

func (s synthesized) has(t *testing.T, typ string, props map[string]interface{}) {
	t.Helper()
	cdktest.Check(t, func() { s.tpl.HasResourceProperties(jsii.String(typ), props) })
}

func (s synthesized) count(t *testing.T, typ string, n int) {
	t.Helper()
	cdktest.Check(t, func() { s.tpl.ResourceCountIs(jsii.String(typ), jsii.Number(n)) })
}

func (s synthesized) resources() map[string]interface{} {
	r, _ := s.raw["Resources"].(map[string]interface{})
	return r
}

// ofType returns the logical IDs and properties of every resource of typ.
func (s synthesized) ofType(typ string) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	for id, r := range s.resources() {
		res := r.(map[string]interface{})
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]interface{})
			out[id] = props
		}
	}
	return out
}

// expectLogicalID fails unless the template has a resource of typ with
// exactly this logical ID.
func (s synthesized) expectLogicalID(t *testing.T, typ, id string) {
	t.Helper()
	r, ok := s.resources()[id].(map[string]interface{})
	if !ok {
		ids := []string{}
		for k := range s.ofType(typ) {
			ids = append(ids, k)
		}
		t.Errorf("no resource with logical ID %s; %s resources: %v", id, typ, ids)
		return
	}
	if r["Type"] != typ {
		t.Errorf("resource %s has type %v, want %s", id, r["Type"], typ)
	}
}

// noExports fails if the template exports or imports any value.
func (s synthesized) noExports(t *testing.T) {
	t.Helper()
	if outs, ok := s.raw["Outputs"].(map[string]interface{}); ok {
		for name, o := range outs {
			if _, ok := o.(map[string]interface{})["Export"]; ok {
				t.Errorf("output %s is exported", name)
			}
		}
	}
	b, err := json.Marshal(s.raw)
	if err != nil {
		t.Fatalf("marshal template: %v", err)
	}
	if strings.Contains(string(b), "Fn::ImportValue") {
		t.Errorf("template uses Fn::ImportValue")
	}
}

func ref(id string) map[string]interface{} { return map[string]interface{}{"Ref": id} }

func getAtt(id, attr string) map[string]interface{} {
	return map[string]interface{}{"Fn::GetAtt": []interface{}{id, attr}}
}

func intp(n int) *int { return &n }
