// Command platform is the CDK app that cdk.json runs: it reads the platform
// config named by WHARF_CONFIG (default apps/platform/wharf.example.yaml),
// and synthesizes the account, cluster, database, app and control-plane
// stacks it describes, and writes the platform descriptor
// (cdk.out/wharf-platform.json) the wharf CLI and the dashboard read. A bad config stops it before any stack is created,
// with every problem listed by field path.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/wharf-paas/wharf/apps/config"
	"github.com/wharf-paas/wharf/apps/platform/assemble"
	"github.com/wharf-paas/wharf/apps/platform/descriptor"
	controlplanestack "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/constructs/database"
)

// DefaultConfig is the config used when WHARF_CONFIG is not set, relative to
// the repository root (where cdk.json is).
const DefaultConfig = "apps/platform/wharf.example.yaml"

func main() {
	path := os.Getenv("WHARF_CONFIG")
	if path == "" {
		path = DefaultConfig
	}
	cfg, err := config.Load(path)
	if err != nil {
		fail(err)
	}
	// Compile the Lambdas (or find them in the build cache) while the jsii
	// kernel starts.
	if len(cfg.Databases) > 0 {
		database.PrebuildManager()
	}
	controlplanestack.PrebuildLambda()
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if assemble.NagRequested(app) {
		assemble.AddNag(app)
	}
	if _, err := assemble.Build(app, cfg); err != nil {
		fail(fmt.Errorf("platform config %s: %w", path, err))
	}
	asm := app.Synth(nil)
	// The platform descriptor for the wharf CLI and the dashboard, next
	// to the cloud assembly (docs/cli.md): cdk.out/wharf-platform.json.
	if _, err := descriptor.Write(*asm.Directory(), cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "wharf: %v\n", err)
	jsii.Close()
	os.Exit(1)
}
