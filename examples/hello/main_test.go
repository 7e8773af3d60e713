package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWeb(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	for path, want := range map[string]string{"/": "Hello from Wharf!", "/healthz": "ok"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), want) {
			t.Errorf("GET %s = %d %q, want 200 with %q", path, resp.StatusCode, body.String(), want)
		}
	}
	if resp, err := http.Get(srv.URL + "/nope"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope = %v, %v; want 404", resp, err)
	}
}

// lockedBuffer is a bytes.Buffer the worker writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWorkerStopsOnSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	done := make(chan error)
	go func() { done <- work(ctx, time.Millisecond, &out) }()
	for !strings.Contains(out.String(), "heartbeat 2") {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "worker: stopping") {
		t.Errorf("output %q", out.String())
	}
	if err := work(context.Background(), 0, &out); err == nil {
		t.Error("a zero interval was accepted")
	}
}

func TestMigrate(t *testing.T) {
	var out bytes.Buffer
	if err := migrate("", &out); err != nil || !strings.Contains(out.String(), "nothing to migrate") {
		t.Errorf("no database: %v %q", err, out.String())
	}
	if err := migrate("postgres://app@db.internal:5432/app?sslmode=require", &out); err != nil || !strings.Contains(out.String(), "/app on db.internal") {
		t.Errorf("database: %v %q", err, out.String())
	}
	if err := migrate("mysql://x", &out); err == nil {
		t.Error("a mysql URL was accepted")
	}
}

// TestDatabaseReachable runs in the Wharf build, where wharf.json's
// postgres service is beside the tests and DATABASE_URL points at it; on a
// machine without DATABASE_URL it is skipped.
func TestDatabaseReachable(t *testing.T) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Skip("DATABASE_URL not set (the Wharf build sets it)")
	}
	addr, err := dbAddr(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("postgres at %s: %v", addr, err)
	}
	c.Close()
}
