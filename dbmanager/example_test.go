package dbmanager_test

import (
	"context"
	"fmt"

	"github.com/wharf-paas/wharf/dbmanager"
)

func ExampleDatabaseNameForApp() {
	name, _ := dbmanager.DatabaseNameForApp("shop-api")
	fmt.Println(name)
	_, err := dbmanager.DatabaseNameForApp("Shop")
	fmt.Println(err)
	// Output:
	// shop_api
	// app: "Shop" must be lowercase letters, digits and single hyphens, a letter first and no hyphen last (^[a-z][a-z0-9-]*[a-z0-9]$, no "--")
}

func ExampleHandler_Handle() {
	m, err := dbmanager.NewManager(dbmanager.Config{Host: "127.0.0.1", Port: 1, AdminUser: "admin"}, dbmanager.IAMTokens{}, nil)
	if err != nil {
		panic(err)
	}
	h := &dbmanager.Handler{Actions: m, Logger: quiet}
	// Invalid requests are answered in the body, before any connection.
	out, _ := h.Handle(context.Background(), []byte(`{"action":"run-sql","app":"shop-api","sql":"COMMIT","id":"x"}`))
	fmt.Println(string(out))
	// Output:
	// {"ok":false,"action":"run-sql","changed":false,"error":{"field":"sql","rule":"transaction-control","message":"sql: statement 1 starts with COMMIT: the manager runs the whole script in one transaction, remove transaction control"}}
}
