package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/app"
	"github.com/wharf-paas/wharf/constructs/app/apptest"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/internal/cdktest"
)

// TestOnRealCluster deploys an app onto the real Cluster construct (not the
// stand-in) and checks the wiring that depends on it: the listener rule on
// the cluster's HTTPS listener, the host name under the cluster domain,
// the task security groups and the cluster ARN in the settings.
func TestOnRealCluster(t *testing.T) {
	a := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	if err := cluster.SetAvailabilityZonesContext(a, apptest.Account, apptest.Region, apptest.AvailabilityZones); err != nil {
		t.Fatal(err)
	}
	cdktest.AddNag(a)
	env := apptest.Env()
	cs := awscdk.NewStack(a, jsii.String("wharf-cluster-main"), &awscdk.StackProps{Env: env})
	c := cluster.NewCluster(cs, "Cluster", &cluster.ClusterProps{
		Name: jsii.String("main"), AvailabilityZones: apptest.AvailabilityZones, Domain: jsii.String("apps.example.com"),
		HostedZoneID: jsii.String("Z0123456789ABCDEFGHIJ"), HostedZoneName: jsii.String("example.com"),
	})
	as := awscdk.NewStack(a, jsii.String("wharf-app-web"), &awscdk.StackProps{Env: env})
	p := validProps()
	p.Name = jsii.String("web")
	p.Cluster = c
	app.NewApp(as, "App", p)
	// One synthesis only: the Cluster construct does not survive a second
	// one in the same App ("There is already a Construct with name 'Ecs'"),
	// so the template and the cdk-nag findings come from one assembly.
	art := a.Synth(nil).GetStackByName(as.StackName())
	b, err := json.Marshal(art.Template())
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]interface{}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	for _, m := range *art.Messages() {
		//lint:ignore SA1019 Annotations_FromStack would synthesize again, which the Cluster construct does not survive; the assembly's messages are the single-synth source
		level, path, data := m.Level, *m.Id, fmt.Sprint(m.Entry.Data)
		if strings.Contains(data, "AwsSolutions-") {
			t.Errorf("cdk-nag %s at %s: %s", level, path, data)
		}
	}
	rule := props(t, tpl, "AppListenerRuleA5868D6E")
	if l := apptest.Render(rule["ListenerArn"]); l != "<import>" {
		t.Errorf("listener %s, want the cluster stack's HTTPS listener", l)
	}
	if c := apptest.JSON(rule["Conditions"]); !strings.Contains(c, `"Values":["web.apps.example.com"]`) {
		t.Errorf("conditions %s", c)
	}
	settings := apptest.Render(props(t, tpl, "AppSettingsBAC69173")["Value"])
	if !strings.Contains(settings, `"clusterArn":"<import>"`) || !strings.Contains(settings, `"securityGroups":["<import>","<AppSecurityGroupC292657D.GroupId>"]`) {
		t.Errorf("settings %s", settings)
	}
	for _, pr := range apptest.Check(tpl, apptest.Policy{StarResourceActions: starActions}) {
		t.Error(pr)
	}
}
