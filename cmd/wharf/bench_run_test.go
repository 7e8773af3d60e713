package main

import (
	"os/exec"
	"testing"
	"time"
)

// BenchmarkRunToRunTask is the time from starting `wharf run --detach`
// (cached credentials) to its RunTask call arriving at awsfake: exec, the
// cached session and credentials, SSM GetParameter of the settings
// document, then RunTask, each through the authorizing guard. Reported as
// ms-to-RunTask per run (ns/op also covers the exit after RunTask's
// answer).
func BenchmarkRunToRunTask(b *testing.B) {
	h := benchHome(b)
	w := h.w
	w.seedOneOff(b)
	runOnce := func() time.Duration {
		arrived := make(chan time.Time, 1)
		w.fake.BeforeNext("RunTask", func() { arrived <- time.Now() })
		start := time.Now()
		cmd := exec.Command(wharfBin, "run", "-a", "api", "--detach", "--", "true")
		cmd.Env = h.env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		select {
		case at := <-arrived:
			return at.Sub(start)
		default:
			b.Fatal("RunTask never arrived")
			return 0
		}
	}
	runOnce() // warm the credentials cache
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		total += runOnce()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-RunTask")
}
