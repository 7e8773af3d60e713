package cdktest

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
)

// countingProducer counts how often CDK resolves its value: once per
// synthesis.
type countingProducer struct{ n int }

func (p *countingProducer) Produce(awscdk.IResolveContext) *string {
	p.n++
	return jsii.String("x")
}

// The checker checked: a bare bucket has AwsSolutions findings, reported
// from the assembly already synthesized, not from a second synthesis (a
// lazy value resolved at synthesis is not resolved again), and a stack
// without findings has none.
func TestNagFindingsFromTheAssembly(t *testing.T) {
	app := NewApp(t)
	bare := awscdk.NewStack(app, jsii.String("nag-probe"), nil)
	awss3.NewBucket(bare, jsii.String("Bare"), nil)
	clean := awscdk.NewStack(app, jsii.String("nag-clean"), nil)
	awscdk.NewCfnWaitConditionHandle(clean, jsii.String("Nothing"), nil)
	counter := &countingProducer{}
	awscdk.NewCfnOutput(bare, jsii.String("Probe"), &awscdk.CfnOutputProps{Value: awscdk.Lazy_UncachedString(counter, nil)})
	Template(t, bare)
	synths := counter.n
	if synths == 0 {
		t.Fatal("the probe was never resolved")
	}
	var dir string
	Check(t, func() { dir = *awscdk.Stage_Of(bare).Synth(nil).Directory() })
	findings, err := NagFindings(dir, *bare.ArtifactId())
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(findings, "\n")
	for _, rule := range []string{"AwsSolutions-S1", "AwsSolutions-S10"} {
		if !strings.Contains(joined, rule) || !strings.Contains(joined, "/nag-probe/Bare") {
			t.Errorf("NagFindings missed %s on a bare bucket; got:\n%s", rule, joined)
		}
	}
	AssertNagClean(t, clean)
	if counter.n != synths {
		t.Errorf("reading the findings synthesized the app again (%d resolutions, %d after the template)", counter.n, synths)
	}
}
