package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// stdinIsTerminal reports whether r is an interactive terminal.
func stdinIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// confirm asks a yes/no question on stderr and reads the answer from
// stdin; only "y" or "yes" is yes.
func (c *cli) confirm(question string) bool {
	fmt.Fprintf(c.out.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// rollbackTarget picks the build of `wharf rollback` without an argument:
// the newest build in the deploy history that deployed successfully and
// is not the build deployed now. current is 0 when unknown.
func rollbackTarget(history []deploy, current int64) (int64, error) {
	if current == 0 {
		for _, d := range history {
			if d.Outcome == "deployed" {
				current = d.Build
				break
			}
		}
	}
	for _, d := range history {
		if d.Outcome == "deployed" && d.Build != current {
			return d.Build, nil
		}
	}
	return 0, fmt.Errorf("no earlier successful deploy to roll back to (see 'wharf deploys')")
}

// deployedBuild is the build the status says the services run (0 when
// unknown).
func deployedBuild(st *appStatus) int64 {
	if st != nil && st.Deployed != nil {
		return st.Deployed.Build
	}
	return 0
}

func (c *cli) rollbackCommand() *cobra.Command {
	var yes, wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rollback [BUILD]",
		Short: "Redeploy an earlier successful build (image and process spec) without rebuilding",
		Long: "Write a rollback request (/<prefix>/apps/<app>/rollback) for BUILD, or, without BUILD, for the\n" +
			"newest successfully deployed build other than the one deployed now (from the deploy history,\n" +
			"'wharf deploys'). The rollback supersedes every build the control plane knows of; a build\n" +
			"that succeeds afterwards deploys as usual. The release command does not run again.\n" +
			"On a terminal wharf asks before writing; elsewhere pass --yes.\n\n" +
			"Exit codes: 0 requested (with --wait: deployed), 1 error or --wait timed out, 2 usage (or no\n" +
			"--yes off a terminal), 3 not logged in, 4 not allowed, 5 network, 6 the rollback failed.",
		Example: "  wharf rollback -a api\n  wharf rollback -a api 41 --yes --wait",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var build int64
			if len(args) == 1 {
				n, err := strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64)
				if err != nil || n < 1 {
					return usagef("BUILD %q: give a build number (see 'wharf deploys')", args[0])
				}
				build = n
			}
			if !yes && !stdinIsTerminal(c.stdin) {
				return usagef("rollback replaces what runs now: confirm with --yes when not on a terminal")
			}
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			return c.rollback(ctx, t, build, yes, wait, timeout)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait until the build is deployed; exit 6 if the rollback failed")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long --wait waits")
	return cmd
}

func (c *cli) rollback(ctx context.Context, t *target, build int64, yes, wait bool, timeout time.Duration) error {
	before, _ := t.readStatus(ctx)
	current := deployedBuild(before)
	history, err := t.deployHistory(ctx)
	if err != nil {
		return err
	}
	if build == 0 {
		if build, err = rollbackTarget(history, current); err != nil {
			return err
		}
	} else {
		ok := false
		for _, d := range history {
			if d.Build == build && d.Outcome == "deployed" {
				ok = true
			}
		}
		if !ok {
			return usagef("BUILD %d: build #%d of %s never deployed successfully, so there is nothing to roll back to (see 'wharf deploys')", build, build, t.app.Name)
		}
	}
	if build == current {
		c.out.infof("Build #%d is already deployed on %s; rolling back to it redeploys it.", build, t.app.Name)
	}
	if !yes {
		q := fmt.Sprintf("Roll back %s to build #%d", t.app.Name, build)
		if current != 0 {
			q += fmt.Sprintf(" (deployed now: #%d)", current)
		}
		if !c.confirm(q + "?") {
			return fmt.Errorf("rollback cancelled")
		}
	}
	req := contract.RollbackRequest{Version: contract.RollbackVersion, ID: newRequestID(time.Now()), Build: build,
		RequestedAt: time.Now().UTC().Format(time.RFC3339), RequestedBy: c.requester()}
	if err := req.Validate(); err != nil {
		return err
	}
	name := contract.Names{Prefix: t.pl.Prefix}.RollbackParameter(t.app.Name)
	if err := t.putRequest(ctx, name, "Wharf rollback request of "+t.app.Name+" (wharf rollback)", req); err != nil {
		return err
	}
	c.out.infof("Requested a rollback of %s to build #%d (request %s).", t.app.Name, build, req.ID)
	c.out.infof("The control plane applies this in its next reconcile; see 'wharf status -a %s' (or pass --wait).", t.app.Name)
	if wait {
		w := &opWatch{kind: "rollback", id: req.ID, before: before, want: build}
		if err := c.waitFor(ctx, t, timeout, fmt.Sprintf("Waiting for the rollback to build #%d", build), w.done(t)); err != nil {
			return err
		}
	}
	if c.jsonOut {
		return c.out.json(req)
	}
	return nil
}
