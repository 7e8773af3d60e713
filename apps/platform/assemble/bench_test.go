package assemble_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/assemble"
)

// BenchmarkSynth measures in-process build + synth of growing slices of the
// example platform with a warm jsii kernel (the first, unmeasured run
// starts the kernel and compiles the Lambda assets). The per-stack cost is
// the difference between consecutive sub-benchmarks; bench/run.sh prints
// it. Template validation (CDK_VALIDATION) follows the environment.
func BenchmarkSynth(b *testing.B) {
	full, err := config.Load(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	slices := []struct {
		name string
		cut  func(c *config.Platform)
	}{
		{"1-account+cluster", func(c *config.Platform) { c.Databases, c.Apps = nil, nil; c.ControlPlane.Deploy = jsii.Bool(false) }},
		{"2-+database", func(c *config.Platform) { c.Apps = nil; c.ControlPlane.Deploy = jsii.Bool(false) }},
		{"3-+app-api", func(c *config.Platform) { c.Apps = c.Apps[:1]; c.ControlPlane.Deploy = jsii.Bool(false) }},
		{"4-+app-web", func(c *config.Platform) { c.ControlPlane.Deploy = jsii.Bool(false) }},
		{"5-+controlplane", func(c *config.Platform) {}},
	}
	synth := func(b *testing.B, cfg *config.Platform) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(b.TempDir())})
		if _, err := assemble.Build(app, cfg); err != nil {
			b.Fatal(err)
		}
		app.Synth(nil)
	}
	// Warm up: kernel start, assembly load, Lambda builds, JIT.
	synth(b, full)
	synth(b, full)
	for _, s := range slices {
		cfg, err := config.Load(examplePath)
		if err != nil {
			b.Fatal(err)
		}
		s.cut(cfg)
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				synth(b, cfg)
			}
		})
	}
}
