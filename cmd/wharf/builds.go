package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/spf13/cobra"
)

type buildInfo struct {
	Number    int64     `json:"number"`
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Phase     string    `json:"phase"`
	Commit    string    `json:"commit,omitempty"`
	Source    string    `json:"sourceVersion,omitempty"`
	Start     time.Time `json:"start,omitzero"`
	End       time.Time `json:"end,omitzero"`
	Initiator string    `json:"initiator,omitempty"`
	LogGroup  string    `json:"logGroup,omitempty"`
	LogStream string    `json:"logStream,omitempty"`
}

func toBuildInfo(b cbtypes.Build) buildInfo {
	bi := buildInfo{Number: aws.ToInt64(b.BuildNumber), ID: aws.ToString(b.Id), Status: string(b.BuildStatus), Phase: aws.ToString(b.CurrentPhase),
		Commit: aws.ToString(b.ResolvedSourceVersion), Source: aws.ToString(b.SourceVersion), Start: aws.ToTime(b.StartTime), End: aws.ToTime(b.EndTime),
		Initiator: aws.ToString(b.Initiator)}
	if b.Logs != nil {
		bi.LogGroup, bi.LogStream = aws.ToString(b.Logs.GroupName), aws.ToString(b.Logs.StreamName)
	}
	return bi
}

func (b buildInfo) duration() string {
	if b.Start.IsZero() {
		return ""
	}
	end := b.End
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(b.Start).Round(time.Second).String()
}

func (c *cli) buildsCommand() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "builds",
		Short:   "List builds (CodeBuild), show one, start one, print its log",
		Example: "  wharf builds -a api\n  wharf builds info -a api 42\n  wharf builds start -a api --wait\n  wharf builds logs -a api 42",
		Args:    cobra.NoArgs,
	}
	list := withLimit(&cobra.Command{
		Use: "list", Short: "List the newest builds", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.listBuilds(cmd.Context(), limit) },
	}, &limit)
	cmd.RunE = list.RunE
	cmd.Flags().AddFlagSet(list.Flags())
	info := &cobra.Command{
		Use: "info N", Short: "Show build number N", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, b, err := c.findBuild(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_ = t
			if c.jsonOut {
				return c.out.json(b)
			}
			c.out.fields([][2]string{{"Build", "#" + strconv.FormatInt(b.Number, 10)}, {"Status", c.out.state(b.Status)}, {"Phase", b.Phase},
				{"Commit", b.Commit}, {"Source", b.Source}, {"Started", b.Start.Local().Format(time.RFC1123)}, {"Duration", b.duration()}, {"Started by", b.Initiator}, {"ID", b.ID}})
			return nil
		},
	}
	var wait bool
	var ref string
	start := &cobra.Command{
		Use: "start", Short: "Start a build of the app's branch (or --ref)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			in := &codebuild.StartBuildInput{ProjectName: aws.String(t.app.CodeBuildProject)}
			if ref != "" {
				in.SourceVersion = aws.String(ref)
			}
			out, err := codebuild.NewFromConfig(t.cfg).StartBuild(ctx, in)
			if err != nil {
				return awsErr("start build", err)
			}
			b := toBuildInfo(*out.Build)
			if !wait {
				if c.jsonOut {
					return c.out.json(b)
				}
				c.out.infof("Started build #%d of %s (follow with 'wharf builds start --wait' or 'wharf status --wait')", b.Number, t.app.Name)
				return nil
			}
			c.out.infof("Started build #%d of %s", b.Number, t.app.Name)
			return c.waitForBuild(ctx, t, b)
		},
	}
	start.Flags().BoolVar(&wait, "wait", false, "wait for the build, then for its deploy")
	start.Flags().StringVar(&ref, "ref", "", "commit, branch or tag to build (default: the app's branch)")
	logs := &cobra.Command{
		Use: "logs N", Short: "Print the log of build number N", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, b, err := c.findBuild(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return c.printBuildLog(cmd.Context(), t, b)
		},
	}
	cmd.AddCommand(list, info, start, logs)
	return cmd
}

func (c *cli) listBuilds(ctx context.Context, limit int) error {
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	builds, err := t.builds(ctx, limit, nil)
	if err != nil {
		return err
	}
	if c.jsonOut {
		return c.out.json(builds)
	}
	var rows [][]string
	for _, b := range builds {
		rows = append(rows, []string{"#" + strconv.FormatInt(b.Number, 10), c.out.state(b.Status), b.Phase, short(b.Commit), ago(b.Start), b.duration()})
	}
	return c.out.table([]string{"BUILD", "STATUS", "PHASE", "COMMIT", "STARTED", "DURATION"}, rows)
}

// builds lists the newest builds (at most limit, 0 for 100), stopping early
// when stop returns true for one.
func (t *target) builds(ctx context.Context, limit int, stop func(buildInfo) bool) ([]buildInfo, error) {
	if limit <= 0 {
		limit = 100
	}
	client := codebuild.NewFromConfig(t.cfg)
	var out []buildInfo
	p := codebuild.NewListBuildsForProjectPaginator(client, &codebuild.ListBuildsForProjectInput{
		ProjectName: aws.String(t.app.CodeBuildProject), SortOrder: cbtypes.SortOrderTypeDescending,
	})
	for p.HasMorePages() && len(out) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsErr("list builds", err)
		}
		ids := page.Ids
		if len(ids) > limit-len(out) {
			ids = ids[:limit-len(out)]
		}
		for i := 0; i < len(ids); i += 100 { // BatchGetBuilds: 1 to 100 IDs
			res, err := client.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: ids[i:min(i+100, len(ids))]})
			if err != nil {
				return nil, awsErr("get builds", err)
			}
			for _, b := range res.Builds {
				bi := toBuildInfo(b)
				out = append(out, bi)
				if stop != nil && stop(bi) {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

func (c *cli) findBuild(ctx context.Context, arg string) (*target, buildInfo, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || n < 1 {
		return nil, buildInfo{}, usagef("build number %q: give a positive number", arg)
	}
	t, err := c.target(ctx)
	if err != nil {
		return nil, buildInfo{}, err
	}
	builds, err := t.builds(ctx, 1000, func(b buildInfo) bool { return b.Number <= n })
	if err != nil {
		return nil, buildInfo{}, err
	}
	for _, b := range builds {
		if b.Number == n {
			return t, b, nil
		}
	}
	return nil, buildInfo{}, fmt.Errorf("no build #%d of %s", n, t.app.Name)
}

// buildLogStream is where the App construct's project logs: the deploy
// log group, stream build/<build uuid>, unless CodeBuild says otherwise.
func (t *target) buildLogStream(b buildInfo) (string, string) {
	group, stream := b.LogGroup, b.LogStream
	if group == "" {
		group = t.app.DeployLogGroup
	}
	if stream == "" {
		_, uuid, _ := strings.Cut(b.ID, ":")
		stream = "build/" + uuid
	}
	return group, stream
}

func (c *cli) printBuildLog(ctx context.Context, t *target, b buildInfo) error {
	group, stream := t.buildLogStream(b)
	client := cloudwatchlogs.NewFromConfig(t.cfg)
	p := cloudwatchlogs.NewFilterLogEventsPaginator(client, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), LogStreamNames: []string{stream},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return awsErr("read build log", err)
		}
		for _, e := range page.Events {
			if c.jsonOut {
				_ = c.out.json(logLine{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)), Stream: stream, Message: aws.ToString(e.Message)})
				continue
			}
			fmt.Fprintln(c.out.stdout, strings.TrimRight(aws.ToString(e.Message), "\n"))
		}
	}
	return nil
}

// waitForBuild follows a build until it completes, then its deploy.
func (c *cli) waitForBuild(ctx context.Context, t *target, b buildInfo) error {
	before, err := t.readStatus(ctx)
	if err != nil && before == nil {
		before = nil
	}
	client := codebuild.NewFromConfig(t.cfg)
	prog := c.out.progress(fmt.Sprintf("Build #%d: %s", b.Number, b.Phase))
	tick := time.NewTicker(pollInterval())
	defer tick.Stop()
	for {
		res, err := client.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: []string{b.ID}})
		if err != nil {
			prog.end()
			return awsErr("get build", err)
		}
		if len(res.Builds) == 1 {
			b = toBuildInfo(res.Builds[0])
			prog.update(fmt.Sprintf("Build #%d: %s", b.Number, b.Phase))
			if b.Status != string(cbtypes.StatusTypeInProgress) {
				break
			}
		}
		select {
		case <-ctx.Done():
			prog.end()
			return ctx.Err()
		case <-tick.C:
		}
	}
	prog.end()
	if b.Status != string(cbtypes.StatusTypeSucceeded) {
		return codef(ExitFailed, "build #%d %s (log: 'wharf builds logs -a %s %d')", b.Number, strings.ToLower(b.Status), t.app.Name, b.Number)
	}
	c.out.infof("Build #%d succeeded; waiting for its deploy", b.Number)
	return c.waitForDeploy(ctx, t, before, 30*time.Minute)
}
