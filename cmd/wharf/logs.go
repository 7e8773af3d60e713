package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

// logLine is one printed log event.
type logLine struct {
	Time    time.Time `json:"time"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
}

func (c *cli) logsCommand() *cobra.Command {
	var follow bool
	var process, filter string
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print (or follow with -f) the app's logs",
		Long: "Print the logs of the app's processes from CloudWatch Logs. -f follows new lines with\n" +
			"CloudWatch Logs Live Tail where the account's endpoint offers it, polling otherwise;\n" +
			"credentials are renewed while following. --filter takes a CloudWatch Logs filter pattern.",
		Example: "  wharf logs -a api --since 30m\n  wharf logs -a api -f --process web\n  wharf logs -a api --filter ERROR --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if follow {
				// Long commands get one-hour credentials (the role's maximum),
				// and the cache renews them before they expire.
				c.sessionSeconds = 3600
			}
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			prefix := ""
			if process != "" {
				prefix = process + "/"
			}
			client := cloudwatchlogs.NewFromConfig(t.cfg)
			start := time.Now().Add(-since)
			seen := map[string]bool{}
			last, err := c.printLogs(ctx, client, t.app.LogGroup, prefix, filter, start, seen)
			if err != nil || !follow {
				return err
			}
			if err := c.liveTail(ctx, t, client, process, filter); err == nil || !errors.Is(err, errNoLiveTail) {
				return err
			}
			return c.pollLogs(ctx, client, t.app.LogGroup, prefix, filter, last, seen)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	f.StringVarP(&process, "process", "p", "", "only this process (web, worker, ...)")
	f.StringVar(&filter, "filter", "", "CloudWatch Logs filter pattern")
	f.DurationVar(&since, "since", time.Hour, "how far back to start")
	return cmd
}

func (c *cli) printLine(l logLine) {
	if c.jsonOut {
		_ = c.out.json(l)
		return
	}
	msg := strings.TrimRight(l.Message, "\n")
	if c.out.tty {
		fmt.Fprintf(c.out.stdout, "%s %s %s\n", c.out.paint("2", l.Time.Local().Format("15:04:05")), c.out.paint("36", l.Stream), msg)
	} else {
		fmt.Fprintf(c.out.stdout, "%s %s %s\n", l.Time.UTC().Format(time.RFC3339Nano), l.Stream, msg)
	}
}

// printLogs prints the events since start and returns the newest event's
// time.
func (c *cli) printLogs(ctx context.Context, client *cloudwatchlogs.Client, group, prefix, filter string, start time.Time, seen map[string]bool) (time.Time, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), StartTime: aws.Int64(start.UnixMilli())}
	if prefix != "" {
		in.LogStreamNamePrefix = aws.String(prefix)
	}
	if filter != "" {
		in.FilterPattern = aws.String(filter)
	}
	last := start
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return last, awsErr("read logs "+group, err)
		}
		for _, e := range page.Events {
			id := aws.ToString(e.EventId)
			if id != "" && seen[id] {
				continue
			}
			seen[id] = true
			ts := time.UnixMilli(aws.ToInt64(e.Timestamp))
			if ts.After(last) {
				last = ts
			}
			c.printLine(logLine{Time: ts, Stream: aws.ToString(e.LogStreamName), Message: aws.ToString(e.Message)})
		}
	}
	return last, nil
}

// pollLogs follows by polling FilterLogEvents, overlapping a few seconds
// (events arrive late) and dropping events already printed.
func (c *cli) pollLogs(ctx context.Context, client *cloudwatchlogs.Client, group, prefix, filter string, last time.Time, seen map[string]bool) error {
	tick := time.NewTicker(pollInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C ends a follow normally
		case <-tick.C:
		}
		newest, err := c.printLogs(ctx, client, group, prefix, filter, last.Add(-5*time.Second), seen)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if newest.After(last) {
			last = newest
		}
		if len(seen) > 100000 { // bound memory on very long follows
			clear(seen)
		}
	}
}

var errNoLiveTail = errors.New("live tail not available")

// liveTail follows with StartLiveTail. It returns errNoLiveTail when the
// endpoint does not offer it (then the caller polls).
func (c *cli) liveTail(ctx context.Context, t *target, client *cloudwatchlogs.Client, process, filter string) error {
	arn := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", t.app.Region, t.app.AccountID, t.app.LogGroup)
	in := &cloudwatchlogs.StartLiveTailInput{LogGroupIdentifiers: []string{arn}}
	if process != "" {
		in.LogStreamNamePrefixes = []string{process + "/"}
	}
	if filter != "" {
		in.LogEventFilterPattern = aws.String(filter)
	}
	out, err := client.StartLiveTail(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "AccessDenied") {
			return awsErr("live tail", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%w: %v", errNoLiveTail, err)
	}
	stream := out.GetStream()
	defer stream.Close()
	for ev := range stream.Events() {
		switch e := ev.(type) {
		case *cwltypes.StartLiveTailResponseStreamMemberSessionUpdate:
			for _, le := range e.Value.SessionResults {
				c.printLine(logLine{Time: time.UnixMilli(aws.ToInt64(le.Timestamp)), Stream: aws.ToString(le.LogStreamName), Message: aws.ToString(le.Message)})
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := stream.Err(); err != nil {
		// A Live Tail session ends after three hours; continue by polling.
		return fmt.Errorf("%w: %v", errNoLiveTail, err)
	}
	return fmt.Errorf("%w: session ended", errNoLiveTail)
}
