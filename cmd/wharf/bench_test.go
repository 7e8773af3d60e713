package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkVersion is the CLI's start-up: exec the binary, print the
// version, exit.
func BenchmarkVersion(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(wharfBin, "--version").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// benchHome logs alice in once and warms the credentials cache.
func benchHome(b *testing.B) *home {
	w := getWorld(b)
	h := w.newHome(b)
	if r := h.login(b, "alice-0001"); r.code != 0 {
		b.Fatalf("login: %s", r.stderr)
	}
	w.putStatus(b, map[string]any{"version": 1, "app": "api", "phase": "deployed", "build": 1,
		"processes": map[string]any{"web": map[string]int{"desired": 2}}, "updatedAt": time.Now().UTC().Format(time.RFC3339)})
	return h
}

func runInfo(b *testing.B, h *home) {
	cmd := exec.Command(wharfBin, "info", "-a", "api", "--json")
	cmd.Env = h.env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
}

// BenchmarkInfo is `wharf info` with cached credentials: read the cached
// session and credentials, SSM GetParameter (status), ECS DescribeServices,
// each through the authorizing guard to kumo and awsfake on loopback.
func BenchmarkInfo(b *testing.B) {
	h := benchHome(b)
	runInfo(b, h)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runInfo(b, h)
	}
}

// BenchmarkInfoColdCredentials adds AssumeRoleWithWebIdentity to every
// run (the credentials cache is removed): the test STS verifies the token
// (JWKS cached) and evaluates the trust policy.
func BenchmarkInfoColdCredentials(b *testing.B) {
	h := benchHome(b)
	runInfo(b, h)
	creds := filepath.Join(h.dir, ".cache", "wharf", "credentials")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_ = os.RemoveAll(creds)
		b.StartTimer()
		runInfo(b, h)
	}
}

// BenchmarkScaleToPutParameter is `wharf scale web=N` with cached
// credentials, from the exec of the binary to the moment the authorizing
// guard receives its SSM PutParameter of the scale setting (metric
// ms-to-put); ns/op is the whole command. Before the write the CLI reads
// the setting and the status document (two GetParameter calls).
func BenchmarkScaleToPutParameter(b *testing.B) {
	h := benchHome(b)
	w := h.w
	puts := make(chan time.Time, 4)
	w.rt.mu.Lock()
	w.rt.puts = puts
	w.rt.mu.Unlock()
	defer func() {
		w.rt.mu.Lock()
		w.rt.puts = nil
		w.rt.mu.Unlock()
	}()
	run := func(i int) time.Duration {
		cmd := exec.Command(wharfBin, "scale", "-a", "api", "web="+strconv.Itoa(2+i%3))
		cmd.Env = h.env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		select {
		case at := <-puts:
			return at.Sub(start)
		default:
			b.Fatal("no PutParameter seen")
			return 0
		}
	}
	run(0) // warm the credentials cache
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		total += run(i)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-put")
}
