package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// dbCommand is `wharf db`. Its subcommands: url (users), create, destroy
// and sql (administrators, through the database manager). The shell
// subcommand is added by the one-off task commands.
func (c *cli) dbCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "An app's PostgreSQL database: connection info, and for administrators create, destroy, one-off SQL",
		Long: "wharf db url shows the app's DATABASE_URL (users of the app). create, destroy and sql invoke the\n" +
			"database manager Lambda of the app's database with the account's admin role\n" +
			"(administrators only, see docs/dbmanager.md).\n\n" +
			"Exit codes: 0 ok, 1 error (the manager refused: its message names the field and rule),\n" +
			"2 usage, 3 not logged in, 4 not allowed (not a user of the app / not an administrator), 5 network.",
	}
	cmd.AddCommand(c.dbURLCommand(), c.dbCreateCommand(), c.dbDestroyCommand(), c.dbSQLCommand())
	return cmd
}

// dbURL is the output of `wharf db url`.
type dbURL struct {
	App      string `json:"app"`
	URL      string `json:"url"`
	Host     string `json:"host"`
	Port     string `json:"port"`
	Database string `json:"database"`
	User     string `json:"user"`
	SSLMode  string `json:"sslmode,omitempty"`
	// Auth is "iam" when the URL has no password (Wharf's databases use
	// IAM database authentication), "password" otherwise (the password is
	// never printed).
	Auth string `json:"auth"`
}

// parseDatabaseURL reads a postgres:// URL; a password is replaced by
// "REDACTED" in URL and never returned.
func parseDatabaseURL(app, raw string) (dbURL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return dbURL{}, fmt.Errorf("DATABASE_URL of %s is not a postgres:// URL", app)
	}
	out := dbURL{App: app, Host: u.Hostname(), Port: u.Port(), Database: strings.TrimPrefix(u.Path, "/"), SSLMode: u.Query().Get("sslmode"), Auth: "iam"}
	if out.Port == "" {
		out.Port = "5432"
	}
	if u.User != nil {
		out.User = u.User.Username()
		if _, has := u.User.Password(); has {
			out.Auth = "password"
			u.User = url.UserPassword(out.User, "REDACTED")
		}
	}
	out.URL = strings.Replace(u.String(), "REDACTED", "<password hidden>", 1)
	if out.Auth == "password" {
		// url.String escapes <, >, space in userinfo; show it readably.
		out.URL = u.Scheme + "://" + out.User + ":<password hidden>@" + u.Host + u.EscapedPath()
		if u.RawQuery != "" {
			out.URL += "?" + u.RawQuery
		}
	}
	return out, nil
}

// appDatabaseURL reads the app's DATABASE_URL config parameter (with the
// app's user role in t) and parses it; an app without one is an error
// saying how a database is attached.
func appDatabaseURL(ctx context.Context, t *target) (dbURL, error) {
	name := t.app.ConfigPrefix + contract.DatabaseURLConfigVar
	out, err := ssm.NewFromConfig(t.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		var nf *ssmtypes.ParameterNotFound
		if errors.As(err, &nf) {
			return dbURL{}, fmt.Errorf("%s has no database: its config has no %s (an administrator attaches one with apps[].database in the platform config)",
				t.app.Name, contract.DatabaseURLConfigVar)
		}
		return dbURL{}, awsErr("read "+name, err)
	}
	return parseDatabaseURL(t.app.Name, aws.ToString(out.Parameter.Value))
}

func (c *cli) dbURLCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "url",
		Short: "Show the app's database connection info (DATABASE_URL; never a password)",
		Long: "Print the app's DATABASE_URL config var. Wharf's databases use IAM database authentication:\n" +
			"the URL has no password; the app connects with a 15-minute IAM auth token as the password,\n" +
			"which only its task role may create (rds-db:connect). The database is in private subnets:\n" +
			"from your machine use 'wharf db shell', which runs psql in a one-off task in the cluster.",
		Example: "  wharf db url -a api\n  wharf db url -a api --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := c.target(ctx)
			if err != nil {
				return err
			}
			info, err := appDatabaseURL(ctx, t)
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(info)
			}
			fmt.Fprintln(c.out.stdout, info.URL)
			if c.out.tty {
				c.out.fields([][2]string{{"Host", info.Host}, {"Port", info.Port}, {"Database", info.Database}, {"User", info.User}, {"SSL mode", info.SSLMode}, {"Auth", info.Auth}})
			}
			if info.Auth == "iam" {
				c.out.infof("No password: the app connects with an IAM auth token (e.g. the AWS SDK's auth.BuildAuthToken for host %s:%s, user %s, region %s)\n"+
					"as the password; only the app's task role may create one. From your machine: 'wharf db shell -a %s'.", info.Host, info.Port, info.User, t.app.Region, t.app.Name)
			} else {
				c.out.infof("The URL carries a password, which wharf does not print ('wharf config get -a %s DATABASE_URL' shows it).", t.app.Name)
			}
			return nil
		},
	}
}

// adminTarget is an SDK config with credentials of the account's admin
// role (the platform descriptor's adminRoleArn), assumed with the login's
// ID token as for an app's user role.
func (c *cli) adminTarget(ctx context.Context) (*target, error) {
	pl, err := c.platform()
	if err != nil {
		return nil, err
	}
	if pl.AdminRoleArn == "" {
		return nil, fmt.Errorf("the platform descriptor names no admin role (adminRoleArn)")
	}
	admin := &contract.PlatformApp{Name: "@admin", AccountID: pl.AccountID, Region: pl.Region, UserRoleArn: pl.AdminRoleArn}
	t, err := c.targetFor(ctx, pl, admin)
	var ee *exitError
	if errors.As(err, &ee) && ee.code == ExitNotAllowed {
		s, _ := loadSession()
		who := "you"
		if s != nil {
			who = s.Email
		}
		return nil, codef(ExitNotAllowed, "%s is not an administrator of this platform: the admin role %s refused you (administrators are listed in the platform config's account.administrators)", who, pl.AdminRoleArn)
	}
	return t, err
}

// dbFlags are the flags of the admin db commands.
type dbFlags struct {
	database string
	yes      bool
	id       string
}

// managerFunction is the database manager of the app's database: the
// --database flag, else the descriptor's apps[].database.
func (c *cli) managerFunction(pl *contract.Platform, appName, database string) (string, error) {
	if database == "" {
		if a := pl.App(appName); a != nil {
			database = a.Database
		}
	}
	if database == "" {
		return "", usagef("no database for app %s: the platform descriptor names none; pass --database <name> (the platform config's databases[].name)", appName)
	}
	if err := contract.ValidateDatabaseName(database); err != nil {
		return "", usagef("--database %s: %v", database, err)
	}
	return contract.Names{Prefix: pl.Prefix}.DatabaseManagerFunction(database), nil
}

// invokeManager calls the database manager synchronously and returns its
// response; a refusal (ok false) is an error naming the field and rule.
func (c *cli) invokeManager(ctx context.Context, f dbFlags, req contract.DBRequest) (*contract.DBResponse, error) {
	app, err := c.appName()
	if err != nil {
		return nil, err
	}
	pl, err := c.platform()
	if err != nil {
		return nil, err
	}
	if pl.App(app) == nil {
		return nil, usagef("no app %q on this platform", app)
	}
	fn, err := c.managerFunction(pl, app, f.database)
	if err != nil {
		return nil, err
	}
	t, err := c.adminTarget(ctx)
	if err != nil {
		return nil, err
	}
	req.App = app
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	prog := c.out.progress(fmt.Sprintf("Database manager %s: %s", fn, req.Action))
	out, err := lambda.NewFromConfig(t.cfg).Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: payload})
	prog.end()
	if err != nil {
		var nf interface{ ErrorCode() string }
		if errors.As(err, &nf) && nf.ErrorCode() == "ResourceNotFoundException" {
			return nil, fmt.Errorf("no database manager %s: is the database %q deployed? (%v)", fn, strings.TrimSuffix(strings.TrimPrefix(fn, pl.Prefix+"-database-"), "-manager"), err)
		}
		return nil, awsErr("invoke "+fn, err)
	}
	if out.FunctionError != nil {
		return nil, fmt.Errorf("the database manager %s failed (%s): %s", fn, aws.ToString(out.FunctionError), strings.TrimSpace(string(out.Payload)))
	}
	var resp contract.DBResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		return nil, fmt.Errorf("the database manager %s answered something that is not its response: %w", fn, err)
	}
	if !resp.OK {
		if c.jsonOut {
			_ = c.out.json(resp)
		}
		if resp.Error == nil {
			return nil, fmt.Errorf("the database manager refused %s without saying why", req.Action)
		}
		msg := fmt.Sprintf("the database manager refused %s: %s (rule %s", req.Action, resp.Error.Message, resp.Error.Rule)
		if resp.Error.SQLState != "" {
			msg += ", sqlstate " + resp.Error.SQLState
		}
		return nil, errors.New(msg + ")")
	}
	return &resp, nil
}

func addDBFlags(cmd *cobra.Command, f *dbFlags) {
	cmd.Flags().StringVar(&f.database, "database", "", "the platform database (databases[].name) the app uses (default: from the platform descriptor)")
}

func (c *cli) dbCreateCommand() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create the app's database and role (administrators; idempotent)",
		Example: "  wharf db create -a api\n  wharf db create -a api --database main --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := c.invokeManager(cmd.Context(), f, contract.DBRequest{Action: contract.DBActionCreateDatabase})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(resp)
			}
			if resp.Changed {
				c.out.infof("Created database %s owned by role %s.", resp.Database, resp.Role)
			} else {
				c.out.infof("Database %s (role %s) already exists; nothing changed.", resp.Database, resp.Role)
			}
			return nil
		},
	}
	addDBFlags(cmd, &f)
	return cmd
}

func (c *cli) dbDestroyCommand() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Drop the app's database and role, data included (administrators; asks first)",
		Long: "Drop the app's database and its role through the database manager: new connections are\n" +
			"blocked, sessions terminated, the database dropped, then the role. The data is gone.\n" +
			"On a terminal wharf asks you to type the app's name; elsewhere pass --yes.",
		Example: "  wharf db destroy -a api\n  wharf db destroy -a api --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			app, err := c.appName()
			if err != nil {
				return err
			}
			if !f.yes {
				if !stdinIsTerminal(c.stdin) {
					return usagef("db destroy drops the data: confirm with --yes when not on a terminal")
				}
				fmt.Fprintf(c.out.stderr, "This drops the database of %s and all its data. Type the app's name to confirm: ", app)
				var line string
				_, _ = fmt.Fscanln(c.stdin, &line)
				if strings.TrimSpace(line) != app {
					return fmt.Errorf("db destroy cancelled")
				}
			}
			resp, err := c.invokeManager(cmd.Context(), f, contract.DBRequest{Action: contract.DBActionDestroyDatabase})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(resp)
			}
			if resp.Changed {
				c.out.infof("Dropped database %s and role %s (%d sessions terminated).", resp.Database, resp.Role, resp.TerminatedSessions)
			} else {
				c.out.infof("Database %s does not exist; nothing changed.", resp.Database)
			}
			return nil
		},
	}
	addDBFlags(cmd, &f)
	cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func (c *cli) dbSQLCommand() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "sql [FILE | -]",
		Short: "Run a one-off SQL script in the app's database as the app's role, in one transaction (administrators)",
		Long: "Send a script (a file, or stdin with - or no argument) to the database manager, which runs it in\n" +
			"the app's database as the app's own role, in one transaction: a failing statement rolls\n" +
			"everything back. --id makes it idempotent: the same id and script run once. Each statement's\n" +
			fmt.Sprintf("command tag is printed, and up to %d rows of those that return rows.", contract.DBMaxRows),
		Example: "  wharf db sql -a api backfill.sql --id 2026-12-06-backfill\n  echo 'SELECT count(*) FROM users' | wharf db sql -a api",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = c.stdin
			src := "stdin"
			if len(args) == 1 && args[0] != "-" {
				fh, err := os.Open(args[0])
				if err != nil {
					return usagef("read %s: %v", args[0], err)
				}
				defer fh.Close()
				r, src = fh, args[0]
			}
			data, err := io.ReadAll(io.LimitReader(r, contract.DBMaxSQLBytes+1))
			if err != nil {
				return fmt.Errorf("read %s: %w", src, err)
			}
			switch {
			case len(data) > contract.DBMaxSQLBytes:
				return usagef("%s: the script is over the manager's limit of %d KiB", src, contract.DBMaxSQLBytes>>10)
			case strings.TrimSpace(string(data)) == "":
				return usagef("%s: the script is empty", src)
			}
			id := f.id
			if id == "" {
				id = "cli-" + newRequestID(time.Now())
			}
			resp, err := c.invokeManager(cmd.Context(), f, contract.DBRequest{Action: contract.DBActionRunSQL, SQL: string(data), ID: id})
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(resp)
			}
			if !resp.Changed {
				at := ""
				if resp.AppliedAt != nil {
					at = " at " + resp.AppliedAt.Format(time.RFC3339)
				}
				c.out.infof("Script %s already ran%s; nothing ran again.", id, at)
				return nil
			}
			for _, s := range resp.Results {
				if len(s.Columns) > 0 {
					rows := make([][]string, 0, len(s.Rows))
					for _, row := range s.Rows {
						cells := make([]string, len(row))
						for i, v := range row {
							if v == nil {
								cells[i] = "NULL"
							} else {
								cells[i] = *v
							}
						}
						rows = append(rows, cells)
					}
					if err := c.out.table(s.Columns, rows); err != nil {
						return err
					}
					if s.Truncated {
						c.out.infof("(only the first rows are shown)")
					}
				}
				c.out.infof("%s", s.Command)
			}
			c.out.infof("Ran script %s in database %s as role %s.", id, resp.Database, resp.Role)
			return nil
		},
	}
	addDBFlags(cmd, &f)
	cmd.Flags().StringVar(&f.id, "id", "", "idempotency key: a script already run with this id runs no more (default: a fresh one)")
	return cmd
}
