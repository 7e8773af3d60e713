package sim

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	flagSeeds     = flag.Int("seeds", 250, "number of seeds TestSeeds runs")
	flagSeedStart = flag.Uint64("seed-start", 1, "first seed TestSeeds runs")
	flagSeed      = flag.Uint64("seed", 0, "seed TestSeed replays with its full trace (0: seed 1)")
	flagReports   = flag.Int("reports", 3, "failing seeds whose trace TestSeeds prints")
)

// TestSeeds runs many seeds against the real control plane and fails on
// any invariant violation. Its last line gives the figures. A soak is the
// same test with more seeds: go test ./controlplane/sim -run TestSeeds -seeds 5000.
func TestSeeds(t *testing.T) {
	results, err := runSeeds(*flagSeedStart, *flagSeeds)
	if err != nil {
		t.Fatal(err)
	}
	reported := 0
	var failed []uint64
	for _, res := range results {
		seed := res.Seed
		if res.Violated() {
			failed = append(failed, seed)
			if reported < *flagReports {
				reported++
				fmt.Println(res.Report())
			}
		}
	}
	// Everything goes to stdout so the figures are the last line before
	// go test's verdict.
	if len(failed) > 0 {
		fmt.Printf("%d of %d seeds broke an invariant: %v\n", len(failed), len(results), head(failed, 40))
		t.Fail()
	}
	fmt.Println(Figures(results))
}

// runSeeds runs n seeds from first on GOMAXPROCS workers (each run is
// single-threaded and independent, so this changes nothing but the wall
// time) and returns the results in seed order.
func runSeeds(first uint64, n int) ([]*Result, error) {
	results := make([]*Result, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = Run(Options{Seed: first + uint64(i)})
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", first+uint64(i), err)
		}
	}
	return results, nil
}

func head[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// TestSeed replays one seed with its full trace: go test ./controlplane/sim
// -run TestSeed -seed N -v.
func TestSeed(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = 1
	}
	res, err := Run(Options{Seed: seed, KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		for _, l := range res.Trace {
			t.Log(l)
		}
	}
	if res.Violated() {
		t.Errorf("seed %d: %d violation(s):\n%s", seed, len(res.Stats.Violations), violationsText(res))
	}
	if *flagSeed != 0 {
		fmt.Println(Figures([]*Result{res}))
	}
}

func violationsText(r *Result) string {
	var b strings.Builder
	for _, v := range r.Stats.Violations {
		b.WriteString("  " + v.String() + "\n")
	}
	return b.String()
}

// TestDeterminism: one seed run twice gives the same trace, byte for byte;
// another seed gives another trace.
func TestDeterminism(t *testing.T) {
	for _, seed := range []uint64{7, 42, 1234} {
		a, err := Run(Options{Seed: seed, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Run(Options{Seed: seed, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		if a.TraceHash != b.TraceHash {
			for i := range min(len(a.Trace), len(b.Trace)) {
				if a.Trace[i] != b.Trace[i] {
					t.Fatalf("seed %d: traces differ at line %d:\n  %s\n  %s", seed, i, a.Trace[i], b.Trace[i])
				}
			}
			t.Fatalf("seed %d: trace hashes differ (%d vs %d lines)", seed, len(a.Trace), len(b.Trace))
		}
		if len(a.Trace) < 100 {
			t.Errorf("seed %d: trace has only %d lines", seed, len(a.Trace))
		}
	}
	x, _ := Run(Options{Seed: 8})
	y, _ := Run(Options{Seed: 9})
	if x.TraceHash == y.TraceHash {
		t.Errorf("seeds 8 and 9 gave the same trace")
	}
}
