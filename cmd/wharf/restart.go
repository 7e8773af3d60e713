package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// newRequestID is a fresh request ID: UTC time to the second and 8 random
// hex digits, within contract's 1-64 of [A-Za-z0-9_.:-].
func newRequestID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// putRequest writes a runtime request document (a String parameter the
// user role may write, contract.Names.RuntimeRequestParameters).
func (t *target) putRequest(ctx context.Context, name, description string, doc any) error {
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = ssm.NewFromConfig(t.cfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(string(data)),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true), Description: aws.String(description)})
	return awsErr("write "+name, err)
}

// opWatch is the wait condition of a restart or rollback: the control
// plane published a status after the request, an operation of kind ran
// (seen in progress, or, for a rollback, the deployed build is want), and
// nothing is in progress any more. A failure published after the request
// is ExitFailed.
type opWatch struct {
	kind   string
	id     string // the request's ID (refusals name it)
	before *appStatus
	want   int64
	seenOp bool
}

func (w *opWatch) done(t *target) func(*appStatus) (bool, error) {
	return func(st *appStatus) (bool, error) {
		if st == nil || (w.before != nil && st.UpdatedAt == w.before.UpdatedAt) {
			return false, nil
		}
		if r := refusalOf(st, w.kind, w.id); r != nil {
			return true, codef(ExitFailed, "the control plane refused the %s of %s: %s: %s", w.kind, t.app.Name, r.Reason, r.Detail)
		}
		if st.Op != nil && st.Op.Kind == w.kind && (w.want == 0 || st.Op.Build == w.want) {
			w.seenOp = true
		}
		if !settled(st) {
			return false, nil
		}
		applied := w.seenOp
		if w.want > 0 && st.Deployed != nil && st.Deployed.Build == w.want && st.Phase == "deployed" {
			applied = true
		}
		// A failure published after the request is reported as the
		// request's: the control plane runs one operation at a time.
		if st.Phase == "failed" {
			return true, codef(ExitFailed, "%s of %s failed: %s: %s", w.kind, t.app.Name, st.Reason, st.Detail)
		}
		return applied, nil
	}
}

func (c *cli) restartCommand() *cobra.Command {
	var process string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "restart",
		Short: "Restart the app's processes: a new deployment of the current task definitions",
		Long: "Write a restart request (/<prefix>/apps/<app>/restart) with a fresh ID; the control plane\n" +
			"turns it into a new deployment of every service (or of --process only) with the task\n" +
			"definitions they run now, and records it in the history ('wharf deploys').\n\n" +
			"Exit codes: 0 requested (with --wait: restarted), 1 error or --wait timed out, 2 usage,\n" +
			"3 not logged in, 4 not allowed, 5 network, 6 the restart failed.",
		Example: "  wharf restart -a api\n  wharf restart -a api --process web --wait",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			req := contract.RestartRequest{Version: contract.RestartVersion, ID: newRequestID(time.Now()), Process: process,
				RequestedAt: time.Now().UTC().Format(time.RFC3339), RequestedBy: c.requester()}
			if err := req.Validate(); err != nil {
				if fe := contract.AsFieldError(err); fe != nil && fe.Field == "restart.process" {
					return usagef("--process %s: %s", process, fe.Msg)
				}
				return err
			}
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			before, _ := t.readStatus(ctx)
			if process != "" && before != nil && len(before.Processes) > 0 {
				if _, ok := before.Processes[process]; !ok {
					return usagef("--process %s: the deployed build of %s has no such process (it has %s)", process, t.app.Name, processList(before))
				}
			}
			name := contract.Names{Prefix: t.pl.Prefix}.RestartParameter(t.app.Name)
			if err := t.putRequest(ctx, name, "Wharf restart request of "+t.app.Name+" (wharf restart)", req); err != nil {
				return err
			}
			what := "every process"
			if process != "" {
				what = "process " + process
			}
			c.out.infof("Requested a restart of %s of %s (request %s).", what, t.app.Name, req.ID)
			c.out.infof("The control plane applies this in its next reconcile; see 'wharf status -a %s' (or pass --wait).", t.app.Name)
			if wait {
				w := &opWatch{kind: "restart", id: req.ID, before: before}
				if err := c.waitFor(ctx, t, timeout, "Waiting for the restart", w.done(t)); err != nil {
					return err
				}
			}
			if c.jsonOut {
				return c.out.json(req)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&process, "process", "p", "", "restart only this process type (default: all)")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait until the restart is done; exit 6 if it failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits")
	return cmd
}

func processList(st *appStatus) string {
	s := ""
	for _, p := range sortedKeysOf(st.Processes) {
		if s != "" {
			s += ", "
		}
		s += p
	}
	if s == "" {
		return "none"
	}
	return s
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
