package cluster

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/wharf-paas/wharf/contract"
)

// AvailabilityZonesContextKey is the CDK context key under which the CDK
// caches the availability zones of an account and region:
// availability-zones:account=<account>:region=<region>.
func AvailabilityZonesContextKey(account, region string) string {
	return "availability-zones:account=" + account + ":region=" + region
}

// SetAvailabilityZonesContext records azs as the availability zones of
// account and region in the context of scope, so that a VPC over explicit
// availability zones synthesizes without an availability-zone lookup (and
// without AWS credentials). Call it on the App, or on a Stack, before any
// construct is added to that scope: CDK refuses context changes after
// children exist. When several clusters share a region, pass the union of
// their zones. It has the same effect as the entry `cdk context` would
// write to cdk.context.json.
func SetAvailabilityZonesContext(scope constructs.Construct, account, region string, azs []string) error {
	if n := len(*scope.Node().Children()); n > 0 {
		return fmt.Errorf("set availability zones context on %s: scope already has %d children; call it before adding constructs", *scope.Node().Path(), n)
	}
	if contract.ValidateAccountID(account) != nil {
		return fmt.Errorf("set availability zones context: account %q must be a 12-digit AWS account ID", account)
	}
	azRegion, err := validateZoneList(azs)
	if err != nil {
		return fmt.Errorf("set availability zones context: %w", err)
	}
	if azRegion != region {
		return fmt.Errorf("set availability zones context: zones %v are not in region %s", azs, region)
	}
	scope.Node().SetContext(jsii.String(AvailabilityZonesContextKey(account, region)), azs)
	return nil
}

// contextStrings converts a context value (a JSON array) to []string; nil
// when the value is absent or not a list of strings.
func contextStrings(v interface{}) []string {
	list, ok := v.([]interface{})
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}
