package main

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/spf13/cobra"
	"github.com/wharf-paas/wharf/contract"
)

type processInfo struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	Desired int    `json:"desired"`
	Running int    `json:"running"`
	Pending int    `json:"pending"`
	Status  string `json:"status,omitempty"`
}

type infoOutput struct {
	App       string          `json:"app"`
	URL       string          `json:"url,omitempty"`
	Phase     string          `json:"phase"`
	Build     int64           `json:"build,omitempty"`
	Commit    string          `json:"commit,omitempty"`
	Operation *statusOp       `json:"op,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Detail    string          `json:"detail,omitempty"`
	Deployed  *statusDeployed `json:"deployed,omitempty"`
	Processes []processInfo   `json:"processes"`
	UpdatedAt string          `json:"updatedAt,omitempty"`
}

// serviceName is the ECS service of a process: <prefix>-<app>_<process>
// (docs/conventions.md).
func serviceName(prefix, app, proc string) string {
	return contract.Names{Prefix: prefix}.Service(app, proc)
}

func (c *cli) infoCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "info",
		Short:   "Show an app: URL, build, phase, processes, last deploy",
		Example: "  wharf info -a api\n  wharf info -a api --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			st, err := t.readStatus(ctx)
			if errors.Is(err, errNoStatus) {
				st, err = &appStatus{App: t.app.Name}, nil
			}
			if err != nil {
				return err
			}
			out := infoOutput{App: t.app.Name, URL: t.app.URL, Phase: st.Phase, Build: st.Build, Commit: st.Commit, Operation: st.Op,
				Reason: st.Reason, Detail: st.Detail, Deployed: st.Deployed, UpdatedAt: st.UpdatedAt, Processes: []processInfo{}}
			names := make([]string, 0, len(st.Processes))
			for p := range st.Processes {
				names = append(names, p)
			}
			sort.Strings(names)
			byService := map[string]*processInfo{}
			for _, p := range names {
				out.Processes = append(out.Processes, processInfo{Name: p, Service: serviceName(t.pl.Prefix, t.app.Name, p), Desired: st.Processes[p].Desired})
			}
			for i := range out.Processes {
				byService[out.Processes[i].Service] = &out.Processes[i]
			}
			// DescribeServices takes at most 10 services per call.
			client := ecs.NewFromConfig(t.cfg)
			for i := 0; i < len(out.Processes); i += 10 {
				var services []string
				for _, p := range out.Processes[i:min(i+10, len(out.Processes))] {
					services = append(services, p.Service)
				}
				res, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(t.app.ECSCluster), Services: services})
				if err != nil {
					return awsErr("describe services", err)
				}
				for _, s := range res.Services {
					if p := byService[aws.ToString(s.ServiceName)]; p != nil {
						p.Desired, p.Running, p.Pending, p.Status = int(s.DesiredCount), int(s.RunningCount), int(s.PendingCount), aws.ToString(s.Status)
					}
				}
				for _, f := range res.Failures {
					for _, p := range out.Processes {
						if strings.Contains(aws.ToString(f.Arn), p.Service) {
							byService[p.Service].Status = aws.ToString(f.Reason)
						}
					}
				}
			}
			if c.jsonOut {
				return c.out.json(out)
			}
			phase := out.Phase
			if phase == "" {
				phase = "(no deploy yet)"
			}
			pairs := [][2]string{{"App", out.App}, {"URL", out.URL}, {"Phase", c.out.state(phase)}}
			if out.Build != 0 {
				pairs = append(pairs, [2]string{"Build", fmt.Sprintf("#%d (%s)", out.Build, short(out.Commit))})
			}
			if out.Operation != nil {
				pairs = append(pairs, [2]string{"In progress", fmt.Sprintf("%s of build #%d, step %s, since %s", out.Operation.Kind, out.Operation.Build, out.Operation.Step, ago(parseTime(out.Operation.Started)))})
			}
			if out.Reason != "" {
				pairs = append(pairs, [2]string{"Failure", out.Reason + ": " + out.Detail})
			}
			if d := out.Deployed; d != nil {
				pairs = append(pairs, [2]string{"Deployed", fmt.Sprintf("#%d (%s) %s", d.Build, short(d.Commit), ago(parseTime(d.At)))})
			}
			c.out.fields(pairs)
			if len(out.Processes) > 0 {
				fmt.Fprintln(c.out.stdout)
				var rows [][]string
				for _, p := range out.Processes {
					rows = append(rows, []string{p.Name, strconv.Itoa(p.Desired), strconv.Itoa(p.Running), strconv.Itoa(p.Pending), p.Status})
				}
				return c.out.table([]string{"PROCESS", "DESIRED", "RUNNING", "PENDING", "STATUS"}, rows)
			}
			return nil
		},
	}
}

func short(commit string) string {
	if len(commit) > 8 {
		return commit[:8]
	}
	return commit
}
