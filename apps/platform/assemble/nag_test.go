package assemble_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/platform/assemble"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

// TestNagContext checks the switch TestExamplePlatform relies on: with
// `-c wharf:nag=true` the platform app records cdk-nag findings in the
// assembly (a bare bucket has several), and without it none.
func TestNagContext(t *testing.T) {
	for _, tc := range []struct {
		context map[string]any
		want    bool
	}{
		{nil, false},
		{map[string]any{assemble.NagContext: "true"}, true},
		{map[string]any{assemble.NagContext: true}, true},
		{map[string]any{assemble.NagContext: "false"}, false},
	} {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &tc.context})
		if got := assemble.NagRequested(app); got != tc.want {
			t.Errorf("context %v: NagRequested = %v, want %v", tc.context, got, tc.want)
		}
		if !tc.want {
			continue
		}
		assemble.AddNag(app)
		st := awscdk.NewStack(app, jsii.String("nagged"), nil)
		awss3.NewBucket(st, jsii.String("Bare"), nil)
		var dir string
		cdktest.Check(t, func() { dir = *app.Synth(nil).Directory() })
		findings, err := cdktest.NagFindings(dir, *st.ArtifactId())
		if err != nil {
			t.Fatal(err)
		}
		if len(findings) == 0 {
			t.Errorf("context %v: a bare bucket has no cdk-nag finding", tc.context)
		}
	}
}
