// Command controlplane is the CDK app of the Wharf control plane: one stack,
// <prefix>-controlplane, normally in its own AWS account.
//
//	npx cdk synth --app 'go run ./apps/controlplane'
//	npx cdk deploy --app 'go run ./apps/controlplane -config path/to/controlplane.yaml'
//
// The config file is -config, else $WHARF_CONTROLPLANE_CONFIG, else
// apps/controlplane/controlplane.example.yaml. The app applies the cdk-nag
// AwsSolutions checks, so synthesis fails on an unsuppressed finding.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	err := run(os.Args[1:], os.Getenv)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wharf controlplane:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string) error {
	path, err := ConfigPath(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return err
	}
	// The CDK CLI names the output folder in CDK_OUTDIR; passing it
	// explicitly (rather than leaving it to the jsii kernel's environment)
	// keeps run testable.
	props := &awscdk.AppProps{}
	if dir := getenv("CDK_OUTDIR"); dir != "" {
		props.Outdir = jsii.String(dir)
	}
	app := awscdk.NewApp(props)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Reports: jsii.Bool(false)}), nil)
	if _, _, err := Build(app, cfg); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// ConfigPath picks the config file: the -config flag, else the
// WHARF_CONTROLPLANE_CONFIG environment variable, else DefaultConfigPath.
func ConfigPath(args []string, getenv func(string) string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet("controlplane", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "control plane config file (YAML); default $"+ConfigEnv+" or "+DefaultConfigPath)
	if err := fs.Parse(args); err != nil {
		return "", fmt.Errorf("arguments: %w", err)
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("arguments: unexpected %q", fs.Args())
	}
	switch {
	case *config != "":
		return *config, nil
	case getenv(ConfigEnv) != "":
		return getenv(ConfigEnv), nil
	}
	return DefaultConfigPath, nil
}
