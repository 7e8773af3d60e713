package contract

import (
	"strings"
	"unicode"
)

// CheckDBScript rejects an empty script, an oversized one, and any top-level
// statement that would end or replace the transaction the manager runs the
// script in (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
// PREPARE TRANSACTION). Statements inside dollar-quoted bodies (DO blocks,
// functions) are not top-level: PostgreSQL itself refuses COMMIT there while
// an outer transaction block is open.
func CheckDBScript(sql string) error {
	if err := checkDBScript(sql); err != nil {
		return err
	}
	return nil
}

func checkDBScript(sql string) *DBError {
	if len(sql) > DBMaxSQLBytes {
		return dbFieldErr("sql", DBRuleTooLong, "is %d bytes, more than the limit of %d", len(sql), DBMaxSQLBytes)
	}
	stmts := dbLeadingKeywords(sql)
	if len(stmts) == 0 {
		return dbFieldErr("sql", DBRuleRequired, "is required and must contain at least one statement")
	}
	for i, kw := range stmts {
		first, second := kw[0], ""
		if len(kw) > 1 {
			second = kw[1]
		}
		bad := false
		switch first {
		case "begin", "start", "commit", "end", "rollback", "abort":
			bad = true
		case "prepare":
			bad = second == "transaction"
		}
		if bad {
			return dbFieldErr("sql", DBRuleTransaction,
				"statement %d starts with %s: the manager runs the whole script in one transaction, remove transaction control",
				i+1, strings.ToUpper(strings.Join(kw, " ")))
		}
	}
	return nil
}

// dbLeadingKeywords splits a script into top-level statements the way psql
// does (quotes, dollar quotes, comments, parentheses and BEGIN ... END bodies
// of CREATE FUNCTION/PROCEDURE are respected) and returns the first two
// lowercase words of each non-empty statement.
func dbLeadingKeywords(sql string) [][]string {
	var (
		out        [][]string
		words      []string // first words of the current statement
		idents     []string // first identifiers, to spot CREATE [OR REPLACE] FUNCTION|PROCEDURE
		nonEmpty   bool
		parenDepth int
		beginDepth int
	)
	flush := func() {
		if nonEmpty {
			if len(words) == 0 {
				words = []string{""}
			}
			out = append(out, words)
		}
		words, idents, nonEmpty, parenDepth, beginDepth = nil, nil, false, 0, 0
	}
	isRoutine := func() bool {
		n := len(idents)
		if n >= 2 && idents[0] == "create" && (idents[1] == "function" || idents[1] == "procedure") {
			return true
		}
		return n >= 4 && idents[0] == "create" && idents[1] == "or" && idents[2] == "replace" &&
			(idents[3] == "function" || idents[3] == "procedure")
	}
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth := 0
			for i < len(sql) {
				if strings.HasPrefix(sql[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(sql[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'':
			nonEmpty = true
			escapes := i > 0 && (sql[i-1] == 'e' || sql[i-1] == 'E') && (i < 2 || !isIdentByte(sql[i-2]))
			i++
			for i < len(sql) {
				if escapes && sql[i] == '\\' {
					i += 2
					continue
				}
				if sql[i] == '\'' {
					if i+1 < len(sql) && sql[i+1] == '\'' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
		case c == '"':
			nonEmpty = true
			i++
			for i < len(sql) {
				if sql[i] == '"' {
					if i+1 < len(sql) && sql[i+1] == '"' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
		case c == '$' && (i == 0 || !isIdentByte(sql[i-1])):
			// Dollar quote $tag$ ... $tag$, or a parameter such as $1.
			j := i + 1
			for j < len(sql) && isTagByte(sql[j]) && !(j == i+1 && sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			if j < len(sql) && sql[j] == '$' {
				tag := sql[i : j+1]
				nonEmpty = true
				end := strings.Index(sql[j+1:], tag)
				if end < 0 {
					i = len(sql)
				} else {
					i = j + 1 + end + len(tag)
				}
			} else {
				nonEmpty = true
				i++
			}
		case c == ';' && parenDepth == 0 && beginDepth == 0:
			flush()
			i++
		case c == '(':
			parenDepth++
			nonEmpty = true
			i++
		case c == ')':
			if parenDepth > 0 {
				parenDepth--
			}
			nonEmpty = true
			i++
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentByte(sql[j]) {
				j++
			}
			w := strings.ToLower(sql[i:j])
			nonEmpty = true
			if len(words) < 2 {
				words = append(words, w)
			}
			if len(idents) < 4 {
				idents = append(idents, w)
			}
			if parenDepth == 0 && isRoutine() {
				switch w {
				case "begin":
					beginDepth++
				case "case":
					if beginDepth > 0 {
						beginDepth++
					}
				case "end":
					if beginDepth > 0 {
						beginDepth--
					}
				}
			}
			i = j
		case unicode.IsSpace(rune(c)):
			i++
		default:
			nonEmpty = true
			i++
		}
	}
	flush()
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentByte(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

func isTagByte(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}
