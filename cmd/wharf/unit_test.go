package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":          "alice@example.com",
		"o'brien+ops@example.com":    "o-brien+ops@example.com",
		"ünïcode@example.com":        "-n-code@example.com",
		"a":                          "a-",
		strings.Repeat("x", 70) + "": strings.Repeat("x", 64),
	} {
		got := SessionName(in)
		if got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
		if !sessionNameValid(got) {
			t.Errorf("SessionName(%q) = %q is not a valid RoleSessionName", in, got)
		}
	}
}

func sessionNameValid(s string) bool {
	return len(s) >= 2 && len(s) <= 64 && !sessionNameInvalid.MatchString(s)
}

func TestParseConfigFile(t *testing.T) {
	got, err := parseConfigFile([]byte("# comment\n\nexport A=1\nB = 'two words'\nC=\"line\\nbreak \\\"q\\\"\"\nD=x=y\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two words", "C": "line\nbreak \"q\"", "D": "x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// export's quoting reads back to the same values.
	var b strings.Builder
	for _, k := range sortedKeys(want) {
		b.WriteString(k + "=" + quoteEnv(want[k]) + "\n")
	}
	back, err := parseConfigFile([]byte(b.String()))
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %q %v\n%s", back, err, b.String())
	}
	if j, err := parseConfigFile([]byte(`{"X":"1","Y":"2"}`)); err != nil || j["Y"] != "2" {
		t.Errorf("JSON: %v %v", j, err)
	}
	for name, bad := range map[string]string{
		"no equals":   "JUSTAKEY\n",
		"twice":       "A=1\nA=2\n",
		"bad key":     "1A=x\n",
		"empty value": "A=\n",
		"not strings": `{"A":1}`,
	} {
		if _, err := parseConfigFile([]byte(bad)); err == nil {
			t.Errorf("%s: accepted %q", name, bad)
		}
	}
}
