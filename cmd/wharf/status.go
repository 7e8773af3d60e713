package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// pollInterval is how often waits re-read the status document;
// WHARF_POLL_INTERVAL (a Go duration) overrides it.
func pollInterval() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("WHARF_POLL_INTERVAL")); err == nil && d > 0 {
		return d
	}
	return 2 * time.Second
}

func describeStatus(st *appStatus) string {
	if st == nil {
		return "no deploy yet"
	}
	if st.Op != nil {
		s := st.Op.Kind
		if st.Op.Build != 0 {
			s += fmt.Sprintf(" of build #%d", st.Op.Build)
		}
		if st.Phase != "" {
			s += ": " + st.Phase
		}
		if st.Op.Step != "" {
			s += " (" + st.Op.Step + ")"
		}
		return s
	}
	if st.Phase == "" {
		return "idle"
	}
	if st.Build != 0 {
		return fmt.Sprintf("%s, build #%d", st.Phase, st.Build)
	}
	return st.Phase
}

// settled reports whether the status shows no operation in progress.
func settled(st *appStatus) bool {
	return st != nil && st.Op == nil && (st.Phase == "deployed" || st.Phase == "failed" || st.Phase == "")
}

// waitForDeploy follows the status document until it changed from before
// (nil: any state) and settled, streaming the build's activity; a failed
// deploy is ExitFailed.
func (c *cli) waitForDeploy(ctx context.Context, t *target, before *appStatus, timeout time.Duration) error {
	return c.follow(ctx, t, timeout, watch{
		msg:      "Waiting for the control plane",
		activity: true,
		done: func(st *appStatus) (bool, error) {
			changed := st != nil && (before == nil || st.UpdatedAt != before.UpdatedAt)
			return changed && settled(st), nil
		},
		finish: func(st *appStatus) error { return c.reportOutcome(t, st) },
	})
}

// watch is what follow waits for: done reports the end (or a failure)
// from each status read (nil before the control plane wrote one); finish,
// called with the last status once done, prints the outcome.
type watch struct {
	msg string
	// activity streams the deploy's activity timeline (every phase and
	// step, also those shorter than a poll interval).
	activity bool
	done     func(*appStatus) (bool, error)
	finish   func(*appStatus) error
}

// follow polls the status document, showing its progress, until w.done
// says so (or fails), ctx ends or the timeout passes.
func (c *cli) follow(ctx context.Context, t *target, timeout time.Duration, w watch) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	prog := c.out.progress(w.msg)
	defer prog.end()
	last := ""
	tick := time.NewTicker(pollInterval())
	defer tick.Stop()
	var activity *timeline
	if w.activity {
		activity = newTimeline(t, time.Now().Add(-time.Minute))
	}
	for {
		st, err := t.readStatus(ctx)
		if err != nil && !errors.Is(err, errNoStatus) {
			return err
		}
		if st != nil {
			if activity != nil {
				for _, line := range activity.poll(ctx, st) {
					prog.println("  " + line)
				}
			}
			if d := describeStatus(st); d != last {
				if last != "" {
					prog.println("  " + last)
				}
				last = d
				prog.update(d)
			}
		}
		ok, err := w.done(st)
		if err != nil {
			return err
		}
		if ok {
			prog.end()
			return w.finish(st)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("gave up waiting after %s (last state: %s); 'wharf status -a %s' shows the progress", timeout, last, t.app.Name)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (c *cli) reportOutcome(t *target, st *appStatus) error {
	if st.Phase == "failed" {
		return codef(ExitFailed, "deploy of build #%d on %s failed: %s: %s", st.Build, t.app.Name, st.Reason, st.Detail)
	}
	if c.jsonOut {
		return c.out.json(st)
	}
	c.out.infof("%s: %s", t.app.Name, c.out.state(describeStatus(st)))
	return nil
}

func (c *cli) statusCommand() *cobra.Command {
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show (or follow with --wait) the current deploy: build → release → services → deployed or failed",
		Example: "  wharf status -a api\n  wharf status -a api --wait\n  wharf status -a api --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			if wait {
				return c.waitForDeploy(ctx, t, nil, timeout)
			}
			st, err := t.readStatus(ctx)
			if errors.Is(err, errNoStatus) {
				st, err = &appStatus{App: t.app.Name}, nil
			}
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(st)
			}
			pairs := [][2]string{{"App", t.app.Name}, {"Status", c.out.state(describeStatus(st))}}
			if st.Op != nil && st.Op.Since != "" {
				pairs = append(pairs, [2]string{"Step since", ago(parseTime(st.Op.Since))})
			}
			if st.Reason != "" {
				pairs = append(pairs, [2]string{"Reason", st.Reason}, [2]string{"Detail", st.Detail})
			}
			if st.UpdatedAt != "" {
				pairs = append(pairs, [2]string{"Updated", ago(parseTime(st.UpdatedAt))})
			}
			c.out.fields(pairs)
			if st.Phase == "failed" {
				return codef(ExitFailed, "the last deploy failed")
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "follow until the deploy is done; exit 6 if it failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits")
	return cmd
}

// deploy is one deploy of the history.
type deploy struct {
	Build   int64  `json:"build"`
	Commit  string `json:"commit,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Time    string `json:"time"`
	Stream  string `json:"stream"`
}

func (c *cli) deploysCommand() *cobra.Command {
	var limit int
	return withLimit(&cobra.Command{
		Use:     "deploys",
		Short:   "Deploy history from the app's activity log",
		Example: "  wharf deploys -a api\n  wharf deploys -a api --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			deploys, err := t.deployHistory(ctx)
			if err != nil {
				return err
			}
			if limit > 0 && len(deploys) > limit {
				deploys = deploys[:limit]
			}
			if c.jsonOut {
				return c.out.json(deploys)
			}
			var rows [][]string
			for _, d := range deploys {
				reason := d.Reason
				if d.Detail != "" {
					reason = strings.TrimSpace(reason + " " + d.Detail)
				}
				rows = append(rows, []string{"#" + strconv.FormatInt(d.Build, 10), short(d.Commit), d.Kind, c.out.state(d.Outcome), d.Time, reason})
			}
			return c.out.table([]string{"BUILD", "COMMIT", "KIND", "OUTCOME", "TIME", "REASON"}, rows)
		},
	}, &limit)
}

func withLimit(cmd *cobra.Command, limit *int) *cobra.Command {
	cmd.Flags().IntVarP(limit, "limit", "n", 20, "show at most this many (0: all)")
	return cmd
}

// deployHistory reads the activity log: the last "deploy" event of each
// build-<n> stream, newest first.
func (t *target) deployHistory(ctx context.Context) ([]deploy, error) {
	client := cloudwatchlogs.NewFromConfig(t.cfg)
	last := map[string]deploy{}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(t.app.ActivityLogGroup), LogStreamNamePrefix: aws.String(strings.TrimSuffix(contract.ActivityStream(0), "0")),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsErr("read activity log "+t.app.ActivityLogGroup, err)
		}
		for _, e := range page.Events {
			var ev activityEvent
			if json.Unmarshal([]byte(aws.ToString(e.Message)), &ev) != nil || ev.Event != contract.ActivityDeploy {
				continue
			}
			stream := aws.ToString(e.LogStreamName)
			prev, seen := last[stream]
			if seen && prev.Time > ev.Time {
				continue
			}
			last[stream] = deploy{Build: ev.Build, Commit: ev.Commit, Kind: ev.Kind, Outcome: ev.Outcome, Reason: ev.Reason, Detail: ev.Detail, Time: ev.Time, Stream: stream}
		}
	}
	out := make([]deploy, 0, len(last))
	for _, d := range last {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time > out[j].Time
		}
		return out[i].Build > out[j].Build
	})
	return out, nil
}

// timeline prints the activity events of the build being followed
// (stream build-<n> of the activity log), each once.
type timeline struct {
	t     *target
	since time.Time
	seen  map[string]bool
}

func newTimeline(t *target, since time.Time) *timeline {
	return &timeline{t: t, since: since, seen: map[string]bool{}}
}

func (tl *timeline) poll(ctx context.Context, st *appStatus) []string {
	build := st.Build
	if st.Op != nil && st.Op.Build != 0 {
		build = st.Op.Build
	}
	if build == 0 {
		return nil
	}
	out, err := cloudwatchlogs.NewFromConfig(tl.t.cfg).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(tl.t.app.ActivityLogGroup), LogStreamNames: []string{contract.ActivityStream(build)},
		StartTime: aws.Int64(tl.since.UnixMilli()),
	})
	if err != nil {
		return nil // the stream may not exist yet; the status document still leads
	}
	var lines []string
	for _, e := range out.Events {
		id := aws.ToString(e.EventId)
		if tl.seen[id] {
			continue
		}
		tl.seen[id] = true
		var ev activityEvent
		if json.Unmarshal([]byte(aws.ToString(e.Message)), &ev) != nil {
			continue
		}
		lines = append(lines, describeEvent(ev))
	}
	return lines
}

// describeEvent renders an activity event for the timeline.
func describeEvent(ev activityEvent) string {
	at := parseTime(ev.Time)
	stamp := ""
	if !at.IsZero() {
		stamp = at.Local().Format("15:04:05") + " "
	}
	switch ev.Event {
	case contract.ActivityPhase:
		return fmt.Sprintf("%sbuild #%d: %s", stamp, ev.Build, ev.Phase)
	case contract.ActivityStep:
		return fmt.Sprintf("%sbuild #%d: step %s", stamp, ev.Build, ev.Step)
	case contract.ActivityDeploy:
		s := fmt.Sprintf("%sbuild #%d: %s", stamp, ev.Build, ev.Outcome)
		if ev.Reason != "" {
			s += " (" + ev.Reason + ": " + ev.Detail + ")"
		}
		return s
	}
	return fmt.Sprintf("%sbuild #%d: %s", stamp, ev.Build, ev.Event)
}
