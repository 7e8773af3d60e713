package app_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/constructs/database"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const (
	controlPlaneAccount = "999988887777"
	busArn              = "arn:aws:events:eu-west-1:999988887777:event-bus/wharf-controlplane"
	connectionArn       = "arn:aws:codeconnections:eu-west-1:111122223333:connection/abcd-1234"
	issuer              = "https://login.example.com"
)

// fixture is the one synthesis every test of this package shares: a
// stand-in cluster, a database, and two apps exercising opposite options.
type fixture struct {
	app                   awscdk.App
	apiStack, workerStack awscdk.Stack
	api, worker           *app.App
	apiTpl, workerTpl     assertions.Template
	apiJSON, workerJSON   map[string]interface{}
	clusterJSON           map[string]interface{}
}

var (
	fixOnce sync.Once
	fix     *fixture
)

func apiProps(c *apptest.Cluster, db database.IDatabase) *app.AppProps {
	return &app.AppProps{
		Name:                    jsii.String("api"),
		Cluster:                 c,
		RepositoryURL:           jsii.String("https://github.com/acme/api.git"),
		ConnectionArn:           jsii.String(connectionArn),
		Domains:                 app.DomainNames("api.acme.com", "www.acme.com"),
		AllowedUsers:            []string{"Alice@Example.com", "bob@example.com"},
		AllowedEmailDomains:     []string{"acme.com"},
		OIDCIssuerURL:           jsii.String(issuer),
		OIDCClientIDs:           []string{"wharf-cli"},
		Database:                db,
		TaskPolicyArn:           jsii.String("arn:aws:iam::111122223333:policy/api-extra"),
		ControlPlaneAccountID:   jsii.String(controlPlaneAccount),
		ControlPlaneEventBusArn: jsii.String(busArn),
		ManagementExternalID:    jsii.String("ext-api-123"),
		BuildConfig:             []string{"NPM_TOKEN", "ASSET_KEY"},
	}
}

func getFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		f := &fixture{}
		f.app = awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]interface{}{}})
		for k, v := range apptest.AppContext() {
			f.app.Node().SetContext(jsii.String(k), v)
		}
		cdktest.AddNag(f.app)
		env := apptest.Env()
		clusterStack := awscdk.NewStack(f.app, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: env})
		c := apptest.NewCluster(clusterStack, "Cluster")
		dbStack := awscdk.NewStack(f.app, jsii.String("wharf-database-main"), &awscdk.StackProps{Env: env})
		db := database.NewDatabase(dbStack, "Database", &database.DatabaseProps{Name: jsii.String("main"), Cluster: c})
		f.apiStack = awscdk.NewStack(f.app, jsii.String("wharf-app-api"), &awscdk.StackProps{Env: env})
		f.api = app.NewApp(f.apiStack, "App", apiProps(c, db))
		f.workerStack = awscdk.NewStack(f.app, jsii.String("wharf-app-worker"), &awscdk.StackProps{Env: env})
		f.worker = app.NewApp(f.workerStack, "App", &app.AppProps{
			Prefix:                     jsii.String("wharf"),
			Name:                       jsii.String("worker-v2"),
			Cluster:                    c,
			RepositoryURL:              jsii.String("https://bitbucket.org/acme/worker"),
			Branch:                     jsii.String("release/2.x"),
			BuildWebhook:               jsii.Bool(false),
			DatabaseName:               jsii.String("main"),
			KeepDatabaseOnDelete:       jsii.Bool(false),
			LaunchType:                 jsii.String(app.LaunchTypeEC2),
			HealthCheckPath:            jsii.String("/healthz"),
			HealthCheckIntervalSeconds: ptr(10),
			HealthCheckTimeoutSeconds:  ptr(6),
			HealthyThreshold:           ptr(3),
			UnhealthyThreshold:         ptr(4),
			DeregistrationDelaySeconds: ptr(0),
			ContainerPort:              ptr(3000),
			Priority:                   ptr(42),
			LogRetentionDays:           ptr(7),
			ImagesToKeep:               ptr(5),
			ArtifactRetentionDays:      ptr(14),
			ControlPlaneAccountID:      jsii.String(controlPlaneAccount),
			ControlPlaneEventBusArn:    jsii.String(busArn),
			ManagementExternalID:       jsii.String("ext-worker-456"),
			TrustedBuilders:            []string{},
		})
		f.apiTpl = cdktest.Template(t, f.apiStack)
		f.workerTpl = cdktest.Template(t, f.workerStack)
		f.clusterJSON = toMap(cdktest.Template(t, clusterStack))
		f.apiJSON = toMap(f.apiTpl)
		f.workerJSON = toMap(f.workerTpl)
		fix = f
	})
	if fix == nil {
		t.Fatal("fixture synthesis failed (see the first test's errors)")
	}
	return fix
}

func toMap(tpl assertions.Template) map[string]interface{} {
	b, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		panic(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func ptr[T any](v T) *T { return &v }
