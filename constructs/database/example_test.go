package database_test

import (
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/constructs/cluster"
	"github.com/wharf-paas/wharf/constructs/database"
)

// A multi-AZ Aurora PostgreSQL database in the private subnets of the
// cluster "main" (referenced by name). Apps attach to it with
// AppProps.DatabaseName = "main".
func ExampleNewDatabase() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("wharf-database-main"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111122223333"), Region: jsii.String("eu-west-1")},
	})
	c := cluster.FromName(stack, "Cluster", &cluster.FromNameProps{
		Name:              jsii.String("main"),
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
	})
	db := database.NewDatabase(stack, "Database", &database.DatabaseProps{
		Name:          jsii.String("main"),
		Cluster:       c,
		InstanceClass: jsii.String("db.r7g.large"),
		MultiAZ:       jsii.Bool(true),
	})
	app.Synth(nil)
	// The attributes it publishes for apps in other stacks.
	keys := make([]string, 0, len(db.Parameters))
	for k := range db.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println(keys)
	// Output:
	// [cluster-resource-id endpoint manager-function-arn port reader-endpoint security-group-id]
}
