package contract

import "testing"

func TestNamesFollowConventions(t *testing.T) {
	n := Names{Prefix: "wharf"}
	for got, want := range map[string]string{
		n.AccountStack():                                  "wharf-account",
		n.ClusterStack("main"):                            "wharf-cluster-main",
		n.AppStack("api"):                                 "wharf-app-api",
		n.DatabaseStack("db"):                             "wharf-database-db",
		n.ControlPlaneStack():                             "wharf-controlplane",
		n.ECSCluster("main"):                              "wharf-main",
		n.CodeBuildProject("api"):                         "wharf-api",
		n.Family("api", "web"):                            "wharf-api_web",
		n.ReleaseFamily("api"):                            "wharf-api_release",
		n.Service("api", "worker"):                        "wharf-api_worker",
		n.ScheduleRule("api", "nightly"):                  "wharf-api_schedule-nightly",
		n.ManagementRole("api"):                           "wharf-app-api-management",
		n.UserRole("api"):                                 "wharf-app-api-user",
		n.ObserverRole():                                  "wharf-account-observer",
		n.AdminRole():                                     "wharf-account-admin",
		n.UserRoleARN("aws", "111122223333", "api"):       "arn:aws:iam::111122223333:role/wharf-app-api-user",
		n.ManagementRoleARN("aws", "111122223333", "api"): "arn:aws:iam::111122223333:role/wharf-app-api-management",
		n.ObserverRoleARN("aws-cn", "111122223333"):       "arn:aws-cn:iam::111122223333:role/wharf-account-observer",
		n.SettingsParameter("api"):                        "/wharf/apps/api/settings",
		n.ConfigPath("api"):                               "/wharf/apps/api/config/",
		n.ConfigParameter("api", "DATABASE_URL"):          "/wharf/apps/api/config/DATABASE_URL",
		n.ClusterParameter("main", "vpcId"):               "/wharf/clusters/main/vpcId",
		n.DatabaseParameter("db", "endpoint"):             "/wharf/databases/db/endpoint",
		n.DatabaseCluster("db"):                           "wharf-db",
		n.DatabaseManagerFunction("db"):                   "wharf-database-db-manager",
		n.AdministratorsParameter():                       "/wharf/account/administrators",
		n.DockerHubParameter():                            "/wharf/account/dockerhub",
		n.LogGroup("api"):                                 "/wharf/apps/api",
		n.DeployLogGroup("api"):                           "/wharf/apps/api/deploys",
		n.EventBus():                                      "wharf-controlplane",
		n.EventBusARN("aws", "eu-west-1", "111122223333"): "arn:aws:events:eu-west-1:111122223333:event-bus/wharf-controlplane",
		ReleaseStartedBy(42):                              "wharf-release-42",
		AppDatabase("api-v2"):                             "api_v2",
		n.RedisStack("cache"):                             "wharf-redis-cache",
		n.RedisParameter("cache", "endpoint"):             "/wharf/redis/cache/endpoint",
		n.RedisReplicationGroup("cache"):                  "wharf-cache",
		n.RedisUserGroup("cache"):                         "wharf-redis-cache",
		n.RedisDefaultUser("cache"):                       "wharf-redis-cache-default",
		n.RedisAppUser("api"):                             "wharf-app-api",
		n.RedisDefaultUserSecret("cache"):                 "wharf/redis/cache/default-user",
		RedisKeyPrefix("api"):                             "api:",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestNameParsers(t *testing.T) {
	n := Names{Prefix: "wharf"}
	if a, p, ok := n.ParseFamily("wharf-api-v2_web"); !ok || a != "api-v2" || p != "web" {
		t.Errorf("ParseFamily = %s %s %v", a, p, ok)
	}
	for _, bad := range []string{"wharf-api", "other-api_web", "wharf-_web", "wharf-api_", "wharf-api_Web", "wharf-a_web", "wharf-api_schedule-x"} {
		if _, _, ok := n.ParseFamily(bad); ok {
			t.Errorf("ParseFamily(%q) ok", bad)
		}
	}
	if a, p, ok := n.ParseFamily(n.ReleaseFamily("api")); !ok || a != "api" || p != ReleaseProcess {
		t.Errorf("ParseFamily(release) = %s %s %v", a, p, ok)
	}
	if a, ok := n.AppOfProject("wharf-api"); !ok || a != "api" {
		t.Errorf("AppOfProject = %q %v", a, ok)
	}
	if _, ok := n.AppOfProject("wharf-Api"); ok {
		t.Error("AppOfProject accepted an invalid app")
	}
	if a, rest, ok := n.AppOfParameter("/wharf/apps/api/config/X"); !ok || a != "api" || rest != "config/X" {
		t.Errorf("AppOfParameter = %q %q %v", a, rest, ok)
	}
	if b, ok := ParseReleaseStartedBy(ReleaseStartedBy(7)); !ok || b != 7 {
		t.Errorf("ParseReleaseStartedBy = %d %v", b, ok)
	}
	for _, bad := range []string{"wharf-release-", "wharf-release-x", "ecs-svc/1", "wharf-release-0"} {
		if _, ok := ParseReleaseStartedBy(bad); ok {
			t.Errorf("ParseReleaseStartedBy(%q) ok", bad)
		}
	}
}
