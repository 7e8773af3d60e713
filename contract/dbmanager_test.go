package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// docJSONBlocks returns the ```json blocks of the "## Invoking it" section
// of docs/dbmanager.md.
func docJSONBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/dbmanager.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Invoking it\n")
	if !ok {
		t.Fatal(`docs/dbmanager.md has no "## Invoking it" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var blocks []string
	for {
		_, rest, ok := strings.Cut(sec, "```json\n")
		if !ok {
			return blocks
		}
		block, after, _ := strings.Cut(rest, "```")
		blocks = append(blocks, block)
		sec = after
	}
}

// checkDocumented decodes each JSON value of block strictly into a new T
// and checks that encoding it again keeps every documented key and value:
// a renamed or dropped field of the wire format fails.
func checkDocumented[T any](t *testing.T, block string) int {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(block))
	n := 0
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatalf("docs example %d: %v", n, err)
		}
		n++
		var v T
		strict := json.NewDecoder(bytes.NewReader(raw))
		strict.DisallowUnknownFields()
		if err := strict.Decode(&v); err != nil {
			t.Errorf("docs example %s: %v", raw, err)
			continue
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want, got map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &got); err != nil {
			t.Fatal(err)
		}
		for k, w := range want {
			if !reflect.DeepEqual(got[k], w) {
				t.Errorf("docs example %s: %q encodes as %v, want %v", raw, k, got[k], w)
			}
		}
	}
}

// TestDBDocumentsMatchDocs: the request, response and error examples of
// docs/dbmanager.md are DBRequest and DBResponse documents, key for key.
func TestDBDocumentsMatchDocs(t *testing.T) {
	blocks := docJSONBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("docs/dbmanager.md: %d json blocks in Invoking it, want request, response and error examples", len(blocks))
	}
	if n := checkDocumented[DBRequest](t, blocks[0]); n != 4 {
		t.Errorf("%d request examples, want one per action (4)", n)
	}
	if n := checkDocumented[DBResponse](t, blocks[1]) + checkDocumented[DBResponse](t, blocks[2]); n < 4 {
		t.Errorf("%d response examples, want at least 4", n)
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(blocks[0], "\n", 2)[0]), &req); err != nil || req["action"] != DBActionCreateDatabase {
		t.Errorf("first request example %v (%v), want action %s", req, err, DBActionCreateDatabase)
	}
}

// TestDBRequestValidate: each action takes its own fields; a refusal is a
// *DBError naming the field and the rule, its message starting with the
// field.
func TestDBRequestValidate(t *testing.T) {
	ok := []struct {
		r    DBRequest
		want string
	}{
		{DBRequest{Action: DBActionCreateDatabase, App: "shop-api"}, "shop_api"},
		{DBRequest{Action: DBActionDestroyDatabase, Database: "legacy_db"}, "legacy_db"},
		{DBRequest{Action: DBActionCreateDatabase, App: "shop-api", Database: "shop_api"}, "shop_api"},
		{DBRequest{Action: DBActionEnableIAMAuth}, ""},
		{DBRequest{Action: DBActionRunSQL, App: "api", ID: "2026-12-06:backfill.1", SQL: "SELECT 1"}, "api"},
	}
	for _, c := range ok {
		if got, err := c.r.Validate(); err != nil || got != c.want {
			t.Errorf("%+v.Validate() = %q, %v; want %q", c.r, got, err, c.want)
		}
	}
	bad := []struct {
		r           DBRequest
		field, rule string
	}{
		{DBRequest{}, "action", DBRuleRequired},
		{DBRequest{Action: "drop-everything", App: "api"}, "action", DBRuleUnknown},
		{DBRequest{Action: DBActionCreateDatabase}, "app", DBRuleRequired},
		{DBRequest{Action: DBActionCreateDatabase, App: "Shop"}, "app", DBRulePattern},
		{DBRequest{Action: DBActionCreateDatabase, App: "api", Database: "web"}, "database", DBRuleMismatch},
		{DBRequest{Action: DBActionCreateDatabase, Database: "template1"}, "database", DBRuleReserved},
		{DBRequest{Action: DBActionCreateDatabase, Database: DBManagerDatabase}, "database", DBRuleReserved},
		{DBRequest{Action: DBActionCreateDatabase, Database: "pg_x"}, "database", DBRuleReserved},
		{DBRequest{Action: DBActionCreateDatabase, Database: "Api"}, "database", DBRulePattern},
		{DBRequest{Action: DBActionDestroyDatabase, App: "api", SQL: "SELECT 1"}, "sql", DBRuleNotAllowed},
		{DBRequest{Action: DBActionEnableIAMAuth, App: "api"}, "app", DBRuleNotAllowed},
		{DBRequest{Action: DBActionRunSQL, App: "api", SQL: "SELECT 1"}, "id", DBRuleRequired},
		{DBRequest{Action: DBActionRunSQL, App: "api", SQL: "SELECT 1", ID: "../x"}, "id", DBRulePattern},
		{DBRequest{Action: DBActionRunSQL, App: "api", ID: "x", SQL: " -- nothing\n"}, "sql", DBRuleRequired},
		{DBRequest{Action: DBActionRunSQL, App: "api", ID: "x", SQL: "SELECT 1; COMMIT"}, "sql", DBRuleTransaction},
		{DBRequest{Action: DBActionRunSQL, App: "api", ID: "x", SQL: strings.Repeat("-", DBMaxSQLBytes) + "\nSELECT 1"}, "sql", DBRuleTooLong},
	}
	for _, c := range bad {
		_, err := c.r.Validate()
		var e *DBError
		if !errors.As(err, &e) || e.Field != c.field || e.Rule != c.rule || !strings.HasPrefix(e.Message, c.field+": ") {
			t.Errorf("%+v.Validate() = %#v, want field %q rule %q", c.r, err, c.field, c.rule)
		}
	}
	if f := (DBRequest{App: "api", Database: "api"}).TargetField(); f != "app" {
		t.Errorf("TargetField with app = %q", f)
	}
	if f := (DBRequest{Database: "api"}).TargetField(); f != "database" {
		t.Errorf("TargetField without app = %q", f)
	}
}

// TestParseDBRequest: the manager's boundary refuses unknown fields and
// wrong JSON types, naming the field.
func TestParseDBRequest(t *testing.T) {
	for payload, want := range map[string][2]string{
		`{"action":"create-database","ap":"api"}`: {"ap", DBRuleUnknown},
		`{"action":1}`: {"action", DBRuleInvalidJSON},
		`[]`:           {"", DBRuleInvalidJSON},
	} {
		_, err := ParseDBRequest([]byte(payload))
		var e *DBError
		if !errors.As(err, &e) || e.Field != want[0] || e.Rule != want[1] {
			t.Errorf("ParseDBRequest(%s) = %v, want field %q rule %q", payload, err, want[0], want[1])
		}
	}
	r, err := ParseDBRequest([]byte(`{"action":"run-sql","app":"a-b","sql":"SELECT 1","id":"x"}`))
	if err != nil || r != (DBRequest{Action: DBActionRunSQL, App: "a-b", SQL: "SELECT 1", ID: "x"}) {
		t.Errorf("ParseDBRequest = %+v, %v", r, err)
	}
}
