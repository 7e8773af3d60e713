package main

import (
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// psqlCommand is what wharf db shell runs in its one-off task: psql with
// the PG* environment the task was started with.
const psqlCommand = `/bin/sh -c 'command -v psql >/dev/null 2>&1 || { echo "wharf db shell: the app image has no psql (add the PostgreSQL client to it)" >&2; exit 127; }; exec psql'`

// dbCommands is `wharf db` with the shell subcommand.
func (c *cli) dbCommands() *cobra.Command {
	cmd := c.dbCommand()
	cmd.AddCommand(c.dbShellCommand())
	return cmd
}

// dbShellEnv is the environment of psql for the app's DATABASE_URL: the
// connection from the URL and, for an IAM-authenticated user (no password
// in the URL), an IAM auth token signed with the user role as PGPASSWORD
// (valid 15 minutes, for the app's own database user only). A URL with a
// password needs nothing more: the task has DATABASE_URL in its
// environment, and psql is given it.
func dbShellEnv(info dbURL, token string) map[string]string {
	sslmode := info.SSLMode
	if sslmode == "" {
		sslmode = "require"
	}
	env := map[string]string{"PGHOST": info.Host, "PGPORT": info.Port, "PGDATABASE": info.Database, "PGUSER": info.User, "PGSSLMODE": sslmode,
		"PGAPPNAME": "wharf db shell"}
	if token != "" {
		env["PGPASSWORD"] = token
	}
	return env
}

func (c *cli) dbShellCommand() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "shell [--cpu N --memory M]",
		Short: "Open psql on the app's database, in a one-off task inside the cluster",
		Long: "The database is in private subnets, so psql runs in a new one-off task of the app (its image\n" +
			"must have the PostgreSQL client), attached with ECS Exec. With IAM database authentication\n" +
			"wharf signs a 15-minute auth token as the app's own database user and hands it to psql.\n" +
			"The task is stopped when psql ends.",
		Example: "  wharf db shell -a api",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c.sessionSeconds = 3600
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			info, err := appDatabaseURL(ctx, t)
			if err != nil {
				return err
			}
			token := ""
			if info.Auth == "iam" {
				if info.User == "" {
					return fmt.Errorf("DATABASE_URL of %s names no user", t.app.Name)
				}
				token, err = auth.BuildAuthToken(ctx, net.JoinHostPort(info.Host, info.Port), t.app.Region, info.User, t.cfg.Credentials)
				if err != nil {
					return fmt.Errorf("sign an IAM database auth token: %w", err)
				}
			}
			command := psqlCommand
			if info.Auth == "password" {
				command = `/bin/sh -c 'command -v psql >/dev/null 2>&1 || { echo "wharf db shell: the app image has no psql" >&2; exit 127; }; exec psql "$DATABASE_URL"'`
			}
			o.newTask = true
			return c.execInto(ctx, o, command, contract.OneOffDB, dbShellEnv(info, token))
		},
	}
	f := cmd.Flags()
	f.Int32Var(&o.cpu, "cpu", 0, fmt.Sprintf("CPU units of the task (at most %d), with --memory", contract.MaxOneOffCPU))
	f.Int32Var(&o.memory, "memory", 0, fmt.Sprintf("memory in MiB of the task (at most %d)", contract.MaxOneOffMemory))
	return cmd
}
