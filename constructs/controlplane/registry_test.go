package controlplanestack_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	cps "github.com/wharf-paas/wharf/constructs/controlplane"
	"github.com/wharf-paas/wharf/contract"
)

func TestValidateRegistryAcceptsValid(t *testing.T) {
	if err := cps.ValidateRegistry("wharf", *testRegistry()); err != nil {
		t.Fatalf("valid registry rejected: %v", err)
	}
	gov := cps.Registry{Accounts: []cps.AccountRegistration{{AccountID: "111122223333",
		ObserverRoleARN: "arn:aws-us-gov:iam::111122223333:role/w-account-observer", ExternalID: "x=1,y@z.a:b/c_d-e+f"}}}
	if err := cps.ValidateRegistry("w", gov); err != nil {
		t.Fatalf("valid GovCloud registry rejected: %v", err)
	}
}

func TestValidateRegistryNamesTheField(t *testing.T) {
	cases := map[string]struct {
		edit func(r *cps.Registry)
		want string
	}{
		"short account": {func(r *cps.Registry) { r.Accounts[0].AccountID = "22223333444" }, `accounts[0].accountId: "22223333444" must be a 12-digit AWS account ID`},
		"duplicate account": {func(r *cps.Registry) { r.Accounts[1] = r.Accounts[0] },
			"accounts[1].accountId: 222233334444 is already registered as accounts[0]"},
		"no accounts": {func(r *cps.Registry) { r.Accounts = nil; r.Apps = nil }, "accounts: at least one account must be registered"},
		"observer wrong name": {func(r *cps.Registry) {
			r.Accounts[0].ObserverRoleARN = "arn:aws:iam::222233334444:role/observer"
		}, `accounts[0].observerRoleArn: "arn:aws:iam::222233334444:role/observer" must be arn:aws:iam::222233334444:role/wharf-account-observer`},
		"observer wrong account": {func(r *cps.Registry) {
			r.Accounts[0].ObserverRoleARN = "arn:aws:iam::111122223333:role/wharf-account-observer"
		}, "accounts[0].observerRoleArn"},
		"observer not an arn":     {func(r *cps.Registry) { r.Accounts[1].ObserverRoleARN = "wharf-account-observer" }, "accounts[1].observerRoleArn: \"wharf-account-observer\" is not an IAM role ARN"},
		"observer no external id": {func(r *cps.Registry) { r.Accounts[1].ExternalID = "" }, "accounts[1].externalId: must not be empty"},
		"external id bad chars":   {func(r *cps.Registry) { r.Apps[0].ExternalID = "has space" }, "apps[0].externalId: must be 2-1224 characters"},
		"external id too long":    {func(r *cps.Registry) { r.Apps[0].ExternalID = strings.Repeat("a", 1225) }, "apps[0].externalId: must be 2-1224 characters"},
		"app name":                {func(r *cps.Registry) { r.Apps[1].Name = "API_v2" }, `apps[1].name: "API_v2" must be lowercase letters`},
		"app name double hyphen": {func(r *cps.Registry) {
			r.Apps[1].Name = "a--b"
			r.Apps[1].ManagementRoleARN = "arn:aws:iam::111122223333:role/wharf-app-a--b-management"
		}, `apps[1].name: "a--b"`},
		"duplicate app": {func(r *cps.Registry) { r.Apps[1] = r.Apps[0] }, `apps[1].name: app "web" is already registered in account 222233334444 as apps[0]`},
		"app unregistered account": {func(r *cps.Registry) {
			r.Apps[0].AccountID = "333344445555"
			r.Apps[0].ManagementRoleARN = "arn:aws:iam::333344445555:role/wharf-app-web-management"
		}, "apps[0].accountId: 333344445555 is not a registered account"},
		"app bad region": {func(r *cps.Registry) { r.Apps[0].Region = "Europe" }, `apps[0].region: "Europe" must be an AWS region name`},
		"management role of other app": {func(r *cps.Registry) {
			r.Apps[0].ManagementRoleARN = "arn:aws:iam::222233334444:role/wharf-app-api-management"
		}, "apps[0].managementRoleArn: \"arn:aws:iam::222233334444:role/wharf-app-api-management\" must be arn:aws:iam::222233334444:role/wharf-app-web-management"},
		"management role with path": {func(r *cps.Registry) {
			r.Apps[0].ManagementRoleARN = "arn:aws:iam::222233334444:role/x/wharf-app-web-management"
		}, "apps[0].managementRoleArn"},
		"registry prefix differs": {func(r *cps.Registry) { r.Prefix = "acme" }, `registry.prefix: "acme" differs from the control plane prefix "wharf"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := testRegistry()
			tc.edit(r)
			err := cps.ValidateRegistry("wharf", *r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ValidateRegistry() = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateRegistryReportsEveryProblem(t *testing.T) {
	r := testRegistry()
	r.Accounts[0].ExternalID = ""
	r.Apps[1].Region = "nowhere"
	err := cps.ValidateRegistry("wharf", *r)
	if err == nil || !strings.Contains(err.Error(), "accounts[0].externalId") || !strings.Contains(err.Error(), "apps[1].region") {
		t.Errorf("ValidateRegistry() = %v, want both problems", err)
	}
}

func TestValidateRegistryChecksThePrefix(t *testing.T) {
	for _, ok := range []string{"wharf", "w", "a1234567890123b4"} {
		r := testRegistry()
		r.Prefix = ""
		for i := range r.Accounts {
			r.Accounts[i].ObserverRoleARN = strings.Replace(r.Accounts[i].ObserverRoleARN, "role/wharf-", "role/"+ok+"-", 1)
		}
		for i := range r.Apps {
			r.Apps[i].ManagementRoleARN = strings.Replace(r.Apps[i].ManagementRoleARN, "role/wharf-", "role/"+ok+"-", 1)
		}
		if err := cps.ValidateRegistry(ok, *r); err != nil {
			t.Errorf("ValidateRegistry(%q) = %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"":                   "prefix: is required",
		"Wharf":              `prefix: "Wharf" must be a lowercase letter`,
		"acme-prod":          `prefix: "acme-prod" must be a lowercase letter`,
		"1wharf":             `prefix: "1wharf" must be a lowercase letter`,
		"wh_arf":             `prefix: "wh_arf" must be a lowercase letter`,
		"a12345678901234567": "is 18 characters; at most 16",
	} {
		if err := cps.ValidateRegistry(bad, *testRegistry()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateRegistry(%q, ...) = %v, want %q", bad, err, want)
		}
	}
}

func TestRegistryJSONIsSortedAndStable(t *testing.T) {
	a, err := cps.RegistryJSON("wharf", *testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := testRegistry()
	r.Accounts[0], r.Accounts[1] = r.Accounts[1], r.Accounts[0]
	r.Apps[0], r.Apps[1] = r.Apps[1], r.Apps[0]
	b, _ := cps.RegistryJSON("wharf", *r)
	if a != b {
		t.Errorf("order of the input changes the JSON:\n%s\n%s", a, b)
	}
	var back cps.Registry
	if err := json.Unmarshal([]byte(a), &back); err != nil {
		t.Fatal(err)
	}
	if back.Prefix != "wharf" || back.Accounts[0].AccountID != "111122223333" || back.Apps[0].Name != "api" {
		t.Errorf("decoded %+v", back)
	}
	// The input is not modified.
	if testRegistry().Accounts[0].AccountID != "222233334444" {
		t.Fatal("test registry changed")
	}
}

// registryOf builds a valid registry of n apps spread over accounts, with
// app names of nameLen and external IDs of extLen characters.
func registryOf(n, accounts, nameLen, extLen int) cps.Registry {
	var r cps.Registry
	id := func(i int) string { return fmt.Sprintf("%012d", 111111111111+i) }
	for i := 0; i < accounts; i++ {
		r.Accounts = append(r.Accounts, cps.AccountRegistration{AccountID: id(i),
			ObserverRoleARN: "arn:aws:iam::" + id(i) + ":role/wharf-account-observer", ExternalID: strings.Repeat("e", extLen)})
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("a%0*d", nameLen-1, i)
		acct := id(i % accounts)
		r.Apps = append(r.Apps, cps.AppRegistration{Name: name, AccountID: acct, Region: "eu-west-1",
			ManagementRoleARN: "arn:aws:iam::" + acct + ":role/wharf-app-" + name + "-management", ExternalID: strings.Repeat("e", extLen)})
	}
	return r
}

func TestConventionalRoleARNsValidate(t *testing.T) {
	acme := contract.Names{Prefix: "acme"}
	r := cps.Registry{
		Accounts: []cps.AccountRegistration{{AccountID: "111122223333", ObserverRoleARN: acme.ObserverRoleARN("aws", "111122223333"), ExternalID: "xx"}},
		Apps: []cps.AppRegistration{{Name: "api", AccountID: "111122223333", Region: "eu-west-1",
			ManagementRoleARN: acme.ManagementRoleARN("aws", "111122223333", "api"), ExternalID: "yy"}},
	}
	if err := cps.ValidateRegistry("acme", r); err != nil {
		t.Errorf("conventional ARNs rejected: %v", err)
	}
}
