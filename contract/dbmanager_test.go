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
