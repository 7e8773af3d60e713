package csp

import (
	"strings"
	"testing"
)

func TestForPlatform(t *testing.T) {
	p, err := ForPlatform("https://login.example.com/oauth2/default", []string{"eu-west-1", "us-east-1", "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	var connect string
	for _, d := range strings.Split(p, "; ") {
		if strings.HasPrefix(d, "connect-src ") {
			connect = d
		}
	}
	want := "connect-src 'self' https://login.example.com " +
		"https://codebuild.eu-west-1.amazonaws.com https://codebuild.us-east-1.amazonaws.com " +
		"https://ecs.eu-west-1.amazonaws.com https://ecs.us-east-1.amazonaws.com " +
		"https://logs.eu-west-1.amazonaws.com https://logs.us-east-1.amazonaws.com " +
		"https://ssm.eu-west-1.amazonaws.com https://ssm.us-east-1.amazonaws.com " +
		"https://sts.eu-west-1.amazonaws.com https://sts.us-east-1.amazonaws.com"
	if connect != want {
		t.Errorf("connect-src:\n got %s\nwant %s", connect, want)
	}
	for _, bad := range []string{"*", "unsafe-inline", "unsafe-eval", "http:"} {
		if strings.Contains(p, bad) {
			t.Errorf("policy contains %q: %s", bad, p)
		}
	}
	for _, must := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(p, must) {
			t.Errorf("policy lacks %q", must)
		}
	}
}

func TestChinaRegion(t *testing.T) {
	eps, err := Endpoints([]string{"cn-north-1"})
	if err != nil {
		t.Fatal(err)
	}
	if eps[0] != "https://codebuild.cn-north-1.amazonaws.com.cn" {
		t.Errorf("got %v", eps)
	}
}

func TestRejects(t *testing.T) {
	for _, c := range []struct{ issuer, region, want string }{
		{"http://login.example.com", "eu-west-1", "https"},
		{"login.example.com", "eu-west-1", "absolute"},
		{"https://login.example.com", "eu-west-1 https://evil.example", "region"},
		{"https://login.example.com", "*", "region"},
	} {
		_, err := ForPlatform(c.issuer, []string{c.region})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ForPlatform(%q, %q) = %v, want error containing %q", c.issuer, c.region, err, c.want)
		}
	}
	if o, err := Origin("http://127.0.0.1:5556/x"); err != nil || o != "http://127.0.0.1:5556" {
		t.Errorf("loopback: %q %v", o, err)
	}
}
