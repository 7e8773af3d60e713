// Command wharf is the Wharf CLI for app developers: log in at the team's
// OIDC issuer (device code), then read and change an app directly in the
// team's AWS account with short-lived credentials of the app's user role.
// Nothing of Wharf's sits between the CLI and AWS.
//
// docs/cli.md documents every command and the exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes (documented in docs/cli.md and `wharf --help`).
const (
	ExitOK          = 0 // success
	ExitError       = 1 // any other error
	ExitUsage       = 2 // bad flags or arguments
	ExitLogin       = 3 // not logged in, or the login expired
	ExitNotAllowed  = 4 // the app's trust or permission policy refused you
	ExitNetwork     = 5 // the issuer or AWS could not be reached
	ExitFailed      = 6 // a waited-for build or deploy failed
	exitCodesHelp   = "Exit codes: 0 ok, 1 error, 2 usage, 3 not logged in or login expired, 4 not allowed, 5 network, 6 a build, deploy, restart, rollback or scale change you waited for failed."
	envApp          = "WHARF_APP"
	envPlatformFile = "WHARF_PLATFORM"
)

// exitError carries an exit code and a message for the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: code, err: err}
}

func codef(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cli := newCLI(stdin, stdout, stderr)
	root := cli.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case isUsageError(err):
		code = ExitUsage
	}
	fmt.Fprintf(stderr, "%s %v\n", cli.out.errorLabel(), err)
	if code == ExitUsage {
		fmt.Fprintln(stderr, "Run 'wharf --help' for usage.")
	}
	return code
}

// isUsageError recognizes cobra's and pflag's argument errors.
func isUsageError(err error) bool {
	var u *usageError
	if errors.As(err, &u) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires exactly", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// cli holds what every command shares.
type cli struct {
	stdin          io.Reader
	out            *output
	appFlag        string
	jsonOut        bool
	platformFlag   string
	noBrowser      bool
	sessionSeconds int
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer) *cli {
	return &cli{stdin: stdin, out: newOutput(stdout, stderr)}
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "wharf",
		Short: "Wharf: deploy, configure and watch your apps",
		Long: "wharf logs you in at your team's OIDC issuer and works on your apps directly in AWS\n" +
			"with short-lived credentials of each app's user role.\n\n" + exitCodesHelp,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVarP(&c.appFlag, "app", "a", "", "app to work on (default $"+envApp+")")
	pf.BoolVar(&c.jsonOut, "json", false, "print JSON instead of a table (every read command)")
	root.AddCommand(c.loginCommand(), c.logoutCommand(), c.whoamiCommand(), c.appsCommand(), c.infoCommand(),
		c.configCommand(), c.logsCommand(), c.buildsCommand(), c.deploysCommand(), c.statusCommand())
	root.AddCommand(c.runCommand(), c.execCommand(), c.shellCommand(), c.sessionPluginCommand())
	// Runtime requests, the database and access (issue 11).
	root.AddCommand(c.scaleCommand(), c.restartCommand(), c.rollbackCommand(), c.dbCommands(), c.accessCommand())
	return root
}

// app returns the app named by -a/--app or WHARF_APP.
func (c *cli) appName() (string, error) {
	name := c.appFlag
	if name == "" {
		name = os.Getenv(envApp)
	}
	if name == "" {
		return "", usagef("no app: pass -a/--app <name> or set %s (see 'wharf apps')", envApp)
	}
	return name, nil
}
