package app_test

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/wharf-paas/wharf/constructs/database"
)

// fakeDB satisfies database.IDatabase for validation tests (never
// synthesized).
type fakeDB struct{ constructs.IConstruct }

func (fakeDB) DatabaseName() *string       { return nil }
func (fakeDB) Endpoint() *string           { return nil }
func (fakeDB) Port() *string               { return nil }
func (fakeDB) ClusterResourceID() *string  { return nil }
func (fakeDB) ManagerFunctionArn() *string { return nil }
func (fakeDB) SecurityGroupID() *string    { return nil }

var _ database.IDatabase = fakeDB{}
