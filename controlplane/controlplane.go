package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/wharf-paas/wharf/contract"
)

// Defaults of the [Options] durations.
const (
	// DefaultDedupeTTL is how long a processed event ID is remembered.
	DefaultDedupeTTL = 24 * time.Hour
	// DefaultStuckAfter is how long an app may sit in a non-terminal phase
	// before the sweep re-observes it.
	DefaultStuckAfter = 5 * time.Minute
	// TaskVisibleWithin is how long after RunTask's answer a release task
	// ECS does not show yet is taken as not visible yet rather than lost
	// (ECS is eventually consistent).
	TaskVisibleWithin = 2 * time.Minute
	// DefaultReleaseTimeout is how long a release task may run.
	DefaultReleaseTimeout = 30 * time.Minute
	// DefaultRolloutTimeout is how long services may take to settle.
	DefaultRolloutTimeout = 45 * time.Minute
	// DefaultMaxConflictRetries bounds the reloads after a version conflict.
	DefaultMaxConflictRetries = 5
	// DefaultMaxProcesses, DefaultMaxSchedules and DefaultMaxCount are the
	// default caps on a build (Options.MaxProcesses, MaxSchedules,
	// MaxCount).
	DefaultMaxProcesses = 10
	DefaultMaxSchedules = 20
	DefaultMaxCount     = 50
	// DefaultSweepConcurrency is how many apps the sweep reconciles at
	// once.
	DefaultSweepConcurrency = 8
)

// Options configure a [ControlPlane].
type Options struct {
	// Registry lists the accounts and apps served (required).
	Registry contract.Registry
	// Store keeps state, history and processed event IDs (required).
	Store Store
	// Clients hands out AWS clients per app and per account (required).
	Clients ClientProvider
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives structured logs. Default: discards everything.
	Logger *slog.Logger

	// DedupeTTL is how long processed event IDs are remembered.
	// Default: DefaultDedupeTTL (24 h).
	DedupeTTL time.Duration
	// StuckAfter: the sweep reconciles an app whose phase is building,
	// releasing or deploying and has not changed for this long.
	// Default: DefaultStuckAfter (5 min).
	StuckAfter time.Duration
	// ReleaseTimeout fails a release task running longer than this (and
	// asks ECS to stop it). Default: DefaultReleaseTimeout (30 min).
	ReleaseTimeout time.Duration
	// RolloutTimeout fails a rollout whose services have not settled
	// after this long. Default: DefaultRolloutTimeout (45 min).
	RolloutTimeout time.Duration
	// MaxConflictRetries bounds how often one reconcile reloads the state
	// after a conditional-write conflict before it gives up with an error
	// wrapping ErrConflict. Default: DefaultMaxConflictRetries (5).
	MaxConflictRetries int
	// SweepAccountID, if set, is the only account whose "Scheduled Event"
	// starts a sweep (the control plane's own account). Default: any.
	SweepAccountID string
	// SkipSweepConfigCheck turns off the sweep's configuration check of
	// idle apps (which makes up for lost Parameter Store events at the
	// cost of one GetParameter and one DescribeParameters per app and
	// sweep). Default: the sweep checks.
	SkipSweepConfigCheck bool
	// SweepConcurrency is how many apps the sweep reconciles at once (each
	// app's reconcile is sequential; apps are independent). 1 visits them
	// one after the other, in order. Default: DefaultSweepConcurrency (8).
	SweepConcurrency int
	// MaxProcesses, MaxSchedules and MaxCount cap what a build may
	// declare: process types, schedules, and the count of each process. A
	// build over a cap is refused (ReasonBuildRefused) and nothing
	// deploys. Defaults: DefaultMaxProcesses (10), DefaultMaxSchedules
	// (20), DefaultMaxCount (50).
	MaxProcesses, MaxSchedules, MaxCount int
}

// ControlPlane routes events to apps and reconciles them. It is safe for
// concurrent use; concurrent reconciles of one app are serialised by the
// store's conditional writes.
type ControlPlane struct {
	opts   Options
	reg    contract.Registry
	log    *slog.Logger
	now    func() time.Time
	accts  map[string]*contract.AccountRegistration
	apps   map[string]*contract.AppRegistration // by account#app
	mu     sync.Mutex
	counts map[string]int
}

// New validates the options and returns a control plane.
func New(opts Options) (*ControlPlane, error) {
	if opts.Store == nil {
		return nil, errors.New("controlplane: options: Store is required")
	}
	if opts.Clients == nil {
		return nil, errors.New("controlplane: options: Clients is required")
	}
	reg := opts.Registry
	if reg.Prefix == "" {
		reg.Prefix = contract.DefaultPrefix
	}
	if err := reg.Validate(); err != nil {
		return nil, fmt.Errorf("controlplane: options: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = DefaultDedupeTTL
	}
	if opts.StuckAfter <= 0 {
		opts.StuckAfter = DefaultStuckAfter
	}
	if opts.ReleaseTimeout <= 0 {
		opts.ReleaseTimeout = DefaultReleaseTimeout
	}
	if opts.RolloutTimeout <= 0 {
		opts.RolloutTimeout = DefaultRolloutTimeout
	}
	if opts.MaxConflictRetries <= 0 {
		opts.MaxConflictRetries = DefaultMaxConflictRetries
	}
	if opts.SweepConcurrency <= 0 {
		opts.SweepConcurrency = DefaultSweepConcurrency
	}
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = DefaultMaxProcesses
	}
	if opts.MaxSchedules <= 0 {
		opts.MaxSchedules = DefaultMaxSchedules
	}
	if opts.MaxCount <= 0 {
		opts.MaxCount = DefaultMaxCount
	}
	c := &ControlPlane{
		opts:   opts,
		reg:    reg,
		log:    opts.Logger,
		now:    opts.Now,
		accts:  map[string]*contract.AccountRegistration{},
		apps:   map[string]*contract.AppRegistration{},
		counts: map[string]int{},
	}
	for i := range reg.Accounts {
		c.accts[reg.Accounts[i].AccountID] = &reg.Accounts[i]
	}
	for i := range reg.Apps {
		a := &reg.Apps[i]
		c.apps[appKey(a.AccountID, a.Name)] = a
	}
	return c, nil
}

// Prefix is the resource prefix in use.
func (c *ControlPlane) Prefix() string { return c.reg.Prefix }

// Counter names reported by [ControlPlane.Stats]. Rejections are counted
// as "rejected:<reason>" with the RejectXxx reasons.
const (
	CountAccepted   = "accepted"
	CountDuplicate  = "duplicate"
	CountReconcile  = "reconcile"
	CountConflict   = "conflict"
	CountError      = "error"
	CountSweep      = "sweep"
	CountNoAWSCalls = "reconcile_without_aws"
)

// Rejection reasons, counted and logged; a rejected event costs no AWS
// call and Handle returns nil for it (EventBridge must not retry).
const (
	RejectUnsupported         = "unsupported_event"
	RejectMalformed           = "malformed_event"
	RejectUnregisteredAccount = "unregistered_account"
	RejectUnregisteredApp     = "unregistered_app"
	RejectUnresolved          = "unresolved_app"
	RejectWrongRegion         = "wrong_region"
	RejectSweepAccount        = "sweep_from_foreign_account"
)

func (c *ControlPlane) count(name string) {
	c.mu.Lock()
	c.counts[name]++
	c.mu.Unlock()
}

// Stats returns a copy of the event counters (see the Count and Reject
// constants).
func (c *ControlPlane) Stats() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Handle processes one EventBridge envelope: any supported detail-type, or
// the sweep ("aws.events" / "Scheduled Event"). It returns an error only
// when a retry may help (an AWS or store error); rejected, duplicate and
// irrelevant events return nil.
func (c *ControlPlane) Handle(ctx context.Context, ev events.CloudWatchEvent) error {
	if ev.Source == "aws.events" && ev.DetailType == "Scheduled Event" {
		if c.opts.SweepAccountID != "" && ev.AccountID != c.opts.SweepAccountID {
			c.reject(ev, RejectSweepAccount, "sweep event from "+ev.AccountID)
			return nil
		}
		return c.Sweep(ctx)
	}
	h, rej, detail := c.route(ctx, ev)
	if rej != "" {
		c.reject(ev, rej, detail)
		return nil
	}
	log := c.log.With("event_id", ev.ID, "account", h.Account, "app", h.App, "kind", string(h.Kind))
	dedupeKey := ev.AccountID + "/" + ev.ID
	if ev.ID != "" {
		seen, err := c.opts.Store.SeenEvent(ctx, dedupeKey, c.now())
		if err != nil {
			c.count(CountError)
			return fmt.Errorf("dedupe event %s: %w", ev.ID, err)
		}
		if seen {
			c.count(CountDuplicate)
			log.Info("duplicate event skipped")
			return nil
		}
	}
	c.count(CountAccepted)
	if err := c.reconcile(ctx, h, log); err != nil {
		c.count(CountError)
		log.Error("reconcile failed", "error", err.Error())
		return fmt.Errorf("reconcile %s/%s for event %s: %w", h.Account, h.App, ev.ID, err)
	}
	// Marked only after a successful reconcile, so a failed one is retried
	// in full; a duplicate of a handled event is skipped, which is safe
	// because the reconciler is level-triggered.
	if ev.ID != "" {
		if err := c.opts.Store.MarkEvent(ctx, dedupeKey, c.now().Add(c.opts.DedupeTTL)); err != nil {
			log.Warn("marking event as processed failed", "error", err.Error())
		}
	}
	return nil
}

func (c *ControlPlane) reject(ev events.CloudWatchEvent, reason, detail string) {
	c.count("rejected:" + reason)
	c.log.Warn("event rejected", "event_id", ev.ID, "account", ev.AccountID, "source", ev.Source,
		"detail_type", ev.DetailType, "reason", reason, "detail", detail)
}

// Reconcile reconciles one registered app without an event (for a CLI,
// tests and the simulator).
func (c *ControlPlane) Reconcile(ctx context.Context, account, app string) error {
	reg := c.apps[appKey(account, app)]
	if reg == nil {
		return fmt.Errorf("reconcile: app %q is not registered in account %s", app, account)
	}
	h := Hint{Kind: KindManual, Account: account, App: app}
	return c.reconcile(ctx, h, c.log.With("account", account, "app", app, "kind", string(KindManual)))
}

// Sweep re-observes every registered app whose phase is non-terminal and
// unchanged for Options.StuckAfter (and, unless SkipSweepConfigCheck is
// set, checks idle apps for configuration changes whose events were lost).
// For every registered app it also lists the newest builds of its CodeBuild
// project and takes up those it has never heard of, as if their Build State
// Change had arrived (one ListBuildsForProject per app; BatchGetBuilds only
// for unknown builds; no write when nothing is new). Up to
// Options.SweepConcurrency apps are reconciled at once, in the order of
// their account and name. Errors of single apps are logged and do not stop
// the sweep; the joined error (in app order) is returned. Once ctx is done,
// no further app is started.
func (c *ControlPlane) Sweep(ctx context.Context) error {
	c.count(CountSweep)
	apps := append([]contract.AppRegistration(nil), c.reg.Apps...)
	sort.Slice(apps, func(i, j int) bool {
		return appKey(apps[i].AccountID, apps[i].Name) < appKey(apps[j].AccountID, apps[j].Name)
	})
	now := c.now()
	errs := make([]error, len(apps))
	started := 0
	if n := min(c.opts.SweepConcurrency, len(apps)); n <= 1 {
		for i := range apps {
			if ctx.Err() != nil {
				break
			}
			started++
			errs[i] = c.sweepApp(ctx, apps[i], now)
		}
	} else {
		next := make(chan int)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				for i := range next {
					errs[i] = c.sweepApp(ctx, apps[i], now)
				}
			})
		}
	dispatch:
		for i := range apps {
			if ctx.Err() != nil {
				break
			}
			select {
			case next <- i:
				started++
			case <-ctx.Done():
				break dispatch
			}
		}
		close(next)
		wg.Wait()
	}
	if started < len(apps) {
		c.log.Error("sweep stopped early", "apps", len(apps), "not_visited", len(apps)-started, "error", ctx.Err().Error())
		errs = append(errs, fmt.Errorf("sweep: %d of %d apps not visited: %w", len(apps)-started, len(apps), ctx.Err()))
	}
	return errors.Join(errs...)
}

// sweepApp is the sweep's visit of one app: load its state, decide whether
// it is due, list its builds and reconcile it if it is due or a build was
// found.
func (c *ControlPlane) sweepApp(ctx context.Context, a contract.AppRegistration, now time.Time) error {
	st, err := c.opts.Store.LoadApp(ctx, a.AccountID, a.Name)
	if err != nil {
		c.count(CountError)
		c.log.Error("sweep: loading state failed", "account", a.AccountID, "app", a.Name, "kind", string(KindSweep), "error", err.Error())
		return fmt.Errorf("sweep %s/%s: %w", a.AccountID, a.Name, err)
	}
	due := false
	switch {
	case st.Version == 0:
	case !st.Phase.Terminal() || st.Op != nil || hasOpenBuilds(st):
		due = now.Sub(st.PhaseSince) >= c.opts.StuckAfter || (st.Op != nil && now.Sub(st.Op.StepSince) >= c.opts.StuckAfter)
	case st.running() != nil && !c.opts.SkipSweepConfigCheck:
		due = true
	}
	// Every app is visited: its build listing finds builds whose every
	// event was lost. An app that is not due stops there unless the
	// listing found one.
	h := Hint{Kind: KindSweep, Account: a.AccountID, App: a.Name}
	log := c.log.With("account", a.AccountID, "app", a.Name, "kind", string(KindSweep))
	if err := c.reconcileMode(ctx, h, log, runMode{discover: true, due: due, preloaded: st}); err != nil {
		c.count(CountError)
		log.Error("sweep reconcile failed", "error", err.Error())
		return fmt.Errorf("sweep %s/%s: %w", a.AccountID, a.Name, err)
	}
	return nil
}

func hasOpenBuilds(st *AppState) bool { return len(st.Builds) > 0 }
