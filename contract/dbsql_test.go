package contract

import (
	"reflect"
	"testing"
)

func TestDBScriptLeadingKeywords(t *testing.T) {
	tests := []struct {
		sql  string
		want [][]string
	}{
		{"SELECT 1; select 2", [][]string{{"select"}, {"select"}}},
		{"  ;; -- only a comment\n /* and /* nested */ one */ ", nil},
		{"INSERT INTO t VALUES ('a;b', E'it\\'s; fine', $$x; COMMIT$$); COMMIT", [][]string{{"insert", "into"}, {"commit"}}},
		{`SELECT "we;ird" FROM t; begin`, [][]string{{"select", "from"}, {"begin"}}},
		{"DO $body$ BEGIN COMMIT; END $body$; SELECT 1", [][]string{{"do"}, {"select"}}},
		{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END; end",
			[][]string{{"create", "function"}, {"end"}}},
		{"CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; END; SELECT 1", [][]string{{"create", "or"}, {"select"}}},
		{"PREPARE q AS SELECT $1; PREPARE TRANSACTION 'x'", [][]string{{"prepare", "q"}, {"prepare", "transaction"}}},
		{"SELECT 'unterminated; COMMIT", [][]string{{"select"}}},
	}
	for _, tc := range tests {
		if got := dbLeadingKeywords(tc.sql); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("dbLeadingKeywords(%q) = %v, want %v", tc.sql, got, tc.want)
		}
	}
}

func TestCheckDBScript(t *testing.T) {
	for _, ok := range []string{
		"SELECT 1",
		"PREPARE q AS SELECT 1; EXECUTE q",
		"SAVEPOINT a; SELECT 1; RELEASE SAVEPOINT a",
		"DO $$ BEGIN PERFORM 1; END $$",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
	} {
		if err := CheckDBScript(ok); err != nil {
			t.Errorf("CheckDBScript(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"COMMIT", "select 1; Rollback", "start transaction", "END", "abort", "prepare transaction 'x'", "BEGIN"} {
		if err := checkDBScript(bad); err == nil || err.Rule != DBRuleTransaction {
			t.Errorf("CheckDBScript(%q) = %v, want a %s error", bad, err, DBRuleTransaction)
		}
	}
}
