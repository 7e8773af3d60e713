package assemble

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NagContext is the CDK context key that turns the cdk-nag AwsSolutions
// checks on for a synth of the platform app:
//
//	cdk synth -c wharf:nag=true
//
// Unsuppressed findings then appear as errors and warnings in the cloud
// assembly (and fail the synth for errors). Off by default: the checks
// add to every synth, and the tests run them.
const NagContext = "wharf:nag"

// NagRequested reports whether the app's context sets NagContext to true
// (the string "true", as `cdk synth -c` passes it, or the boolean).
func NagRequested(app awscdk.App) bool {
	switch v := app.Node().TryGetContext(jsii.String(NagContext)).(type) {
	case string:
		return v == "true"
	case bool:
		return v
	}
	return false
}

// AddNag adds the cdk-nag AwsSolutions checks (reports off) to app. It
// must run before anything synthesizes the app.
func AddNag(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false)}), nil)
}
