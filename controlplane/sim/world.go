// Package sim is a deterministic, seeded simulation of the AWS side of a
// Wharf installation, for testing the control plane under faults.
//
// A [World] is an in-memory AWS account (or several): CodeBuild builds that
// run for a while and succeed or fail, S3 build-metadata objects, SSM
// settings and config parameters, ECS task definitions, tasks and services
// with rolling deployments and the deployment circuit breaker, and
// EventBridge rules. Its clients implement the control plane's adapter
// interfaces (controlplane.ECSAPI and friends, and
// controlplane.ClientProvider) with the SDK's own input, output and error
// types, and it emits the EventBridge envelopes AWS would emit.
//
// Everything runs on one goroutine against a simulated clock, and every
// random choice comes from one PCG generator seeded by the run's seed, so a
// seed replays exactly. [Run] drives the real control plane through a
// random scenario with faults (lost, duplicated, delayed and reordered
// events; throttling and 5xx errors; crashes between an AWS call and the
// state write; concurrent invocations; hung releases; builds that finish out
// of order; config changes during a deploy) and checks the invariants of
// docs/simulation.md after every step and at the end.
package sim

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Epoch is the simulated wall-clock time at which every run starts.
var Epoch = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)

// World is the simulated AWS side: accounts, a clock, a scheduler and a
// trace. It is not safe for concurrent use; the simulation is
// single-threaded by design.
type World struct {
	// Seed is the seed the world's generator was created with.
	Seed uint64

	rng   *rand.Rand
	now   time.Time
	queue schedQueue
	seq   uint64

	accounts map[string]*account
	apps     map[string]*appWorld

	// Faults is the active fault configuration; faultsOn switches it off
	// for the settle phase.
	Faults   FaultConfig
	faultsOn bool

	trace      []string
	keepTrace  bool
	traceHash  hash.Hash
	traceLines int
	out        func(string)

	requestSeq int

	// reqs are the users' runtime requests (requests.go).
	reqs *requestsWorld

	// Stats are the run's counters.
	Stats Stats

	inv       *invocation // innermost running control-plane invocation
	invSeq    int
	oracle    *oracle
	listeners []func(Event)
	emitHook  func(Event)
	recorder  func(*Call)
}

// Stats counts what happened in a run.
type Stats struct {
	// Faults counts injected faults by kind.
	Faults map[string]int
	// Calls counts AWS API calls by "Service.Operation".
	Calls map[string]int
	// WriteCalls counts calls that change AWS state.
	WriteCalls int
	// Invocations counts control-plane Handle calls.
	Invocations int
	// HandleErrors counts Handle calls that returned an error.
	HandleErrors int
	// Events counts EventBridge events emitted by the simulated services.
	Events int
	// Deploys counts service deployments that completed on a build the
	// control plane asked for (rollbacks excluded).
	Deploys int
	// AppDeploys counts builds that came to run on every service of their
	// app (the "simulated deploys" of the benchmark).
	AppDeploys int
	// Violations lists invariant violations, in order.
	Violations []Violation
	// HandleTime is the wall time spent inside the control plane's Handle.
	HandleTime time.Duration
	// SimCallTime is the wall time spent inside simulated AWS calls made
	// by the control plane (part of HandleTime).
	SimCallTime time.Duration
	// Deliveries counts event deliveries (including retries).
	Deliveries int
}

// Violation is one broken invariant.
type Violation struct {
	// Invariant is the invariant's short name (see docs/simulation.md).
	Invariant string
	// At is the simulated time of the check.
	At time.Time
	// Detail says what was seen.
	Detail string
}

// String formats the violation for reports.
func (v Violation) String() string {
	return fmt.Sprintf("%s at %s: %s", v.Invariant, v.At.Format("15:04:05"), v.Detail)
}

// NewWorld returns an empty world seeded with seed.
func NewWorld(seed uint64) *World {
	w := &World{
		Seed:      seed,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:       Epoch,
		accounts:  map[string]*account{},
		apps:      map[string]*appWorld{},
		traceHash: sha256.New(),
		keepTrace: true,
		Stats:     Stats{Faults: map[string]int{}, Calls: map[string]int{}},
	}
	w.oracle = newOracle(w)
	return w
}

// Now is the simulated time; pass it to the control plane as its clock.
func (w *World) Now() time.Time { return w.now }

// SetOutput sends every trace line to f as it is written (nil: none).
func (w *World) SetOutput(f func(string)) { w.out = f }

// KeepTrace chooses whether trace lines are kept in memory (they are always
// hashed).
func (w *World) KeepTrace(keep bool) { w.keepTrace = keep }

// Trace returns the trace lines kept so far.
func (w *World) Trace() []string { return w.trace }

// TraceHash is the SHA-256 of every trace line so far; two runs of one seed
// give the same hash.
func (w *World) TraceHash() string { return hex.EncodeToString(w.traceHash.Sum(nil)) }

// OnEvent registers f to be called with every event the simulated services
// emit (before faults decide its delivery).
func (w *World) OnEvent(f func(Event)) { w.listeners = append(w.listeners, f) }

func (w *World) tracef(format string, args ...any) {
	d := w.now.Sub(Epoch)
	line := fmt.Sprintf("%s %s", fmtOffset(d), fmt.Sprintf(format, args...))
	if w.inv != nil {
		line = fmt.Sprintf("%s %s%s", fmtOffset(d), strings.Repeat("  ", w.inv.depth), fmt.Sprintf(format, args...))
	}
	w.traceHash.Write([]byte(line))
	w.traceHash.Write([]byte{'\n'})
	w.traceLines++
	if w.keepTrace {
		w.trace = append(w.trace, line)
	}
	if w.out != nil {
		w.out(line)
	}
}

func fmtOffset(d time.Duration) string {
	h := int(d / time.Hour)
	m := int(d/time.Minute) % 60
	s := int(d/time.Second) % 60
	ms := int(d/time.Millisecond) % 1000
	return fmt.Sprintf("+%02d:%02d:%02d.%03d", h, m, s, ms)
}

func asAPIError(err error, target *smithy.APIError) bool { return errors.As(err, target) }

func (w *World) fault(kind string) {
	w.Stats.Faults[kind]++
}

// chance reports true with probability p, drawing from the world's
// generator.
func (w *World) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	return w.rng.Float64() < p
}

// between returns a duration uniformly in [lo, hi].
func (w *World) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)+1))
}

// hexID returns n pseudo-random hex digits.
func (w *World) hexID(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[w.rng.IntN(16)]
	}
	return string(b)
}

// uuid returns a pseudo-random UUID-shaped string.
func (w *World) uuid() string {
	h := w.hexID(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// --- scheduler ---

type schedItem struct {
	at   time.Time
	seq  uint64
	name string
	fn   func()
}

type schedQueue []*schedItem

// heap.Interface, ordered by time, then by scheduling order.

func (q schedQueue) Len() int { return len(q) }
func (q schedQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q schedQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *schedQueue) Push(x any)   { *q = append(*q, x.(*schedItem)) }
func (q *schedQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// after schedules fn to run d after now.
func (w *World) after(d time.Duration, name string, fn func()) {
	w.at(w.now.Add(d), name, fn)
}

// at schedules fn at t (never in the past).
func (w *World) at(t time.Time, name string, fn func()) {
	if t.Before(w.now) {
		t = w.now
	}
	w.seq++
	heap.Push(&w.queue, &schedItem{at: t, seq: w.seq, name: name, fn: fn})
}

// step runs the next scheduled item; it reports false when none is left
// at or before until.
func (w *World) step(until time.Time) bool {
	if len(w.queue) == 0 || w.queue[0].at.After(until) {
		return false
	}
	it := heap.Pop(&w.queue).(*schedItem)
	w.now = it.at
	it.fn()
	return true
}

// RunFor advances the world by d, running everything scheduled until then
// (for tests and tools that drive the world without [Run]).
func (w *World) RunFor(d time.Duration) {
	end := w.now.Add(d)
	for w.step(end) {
	}
	w.now = end
}

// sortedKeys returns a map's keys in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
