package sim

import (
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSeeds runs b.N seeds with the given faults and reports simulated
// deploys per second of wall time and the control plane's share of it
// (time inside Handle minus time inside simulated AWS calls).
func benchSeeds(b *testing.B, faults *FaultConfig) {
	var deploys, invocations int
	var handle, simCalls time.Duration
	start := time.Now()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := Run(Options{Seed: uint64(i + 1), Faults: faults})
		if err != nil {
			b.Fatal(err)
		}
		deploys += res.Stats.AppDeploys
		invocations += res.Stats.Invocations
		handle += res.Stats.HandleTime
		simCalls += res.Stats.SimCallTime
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	// On a shared machine wall time depends on the load; CPU time of the
	// process does not (the runs are single-threaded).
	b.ReportMetric(float64(deploys)/cpu.Seconds(), "deploys/cpu-s")
	b.ReportMetric(float64(deploys)/wall.Seconds(), "deploys/s")
	b.ReportMetric(float64(invocations)/wall.Seconds(), "invocations/s")
	b.ReportMetric(100*(handle-simCalls).Seconds()/wall.Seconds(), "cp-%")
	b.ReportMetric(100*simCalls.Seconds()/wall.Seconds(), "aws-sim-%")
	// Each run simulates 2 h of activity and 3 h of settling.
	b.ReportMetric(float64(b.N)*(5*time.Hour).Seconds()/wall.Seconds(), "x-realtime")
}

// BenchmarkSeedsFaulty: the random scenarios with the seed's fault mix.
func BenchmarkSeedsFaulty(b *testing.B) { benchSeeds(b, nil) }

// BenchmarkSeedsCalm: the same scenarios without faults.
func BenchmarkSeedsCalm(b *testing.B) { benchSeeds(b, &FaultConfig{}) }
