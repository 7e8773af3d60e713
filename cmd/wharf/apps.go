package main

import (
	"errors"
	"sync"

	"github.com/spf13/cobra"
)

type appAccess struct {
	Name      string `json:"name"`
	URL       string `json:"url,omitempty"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	Access    string `json:"access"` // yes, no, no-user-role, error
	Detail    string `json:"detail,omitempty"`
}

func (c *cli) appsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "apps",
		Short: "List the platform's apps and whether you can reach each",
		Long: "List the apps of the platform descriptor. For each app with a user role, wharf asks STS\n" +
			"for credentials: 'yes' means the role's trust policy accepts you.",
		Example: "  wharf apps\n  wharf apps --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pl, err := c.platform()
			if err != nil {
				return err
			}
			if _, err := c.currentSession(cmd.Context(), pl, false); err != nil {
				return err
			}
			rows := make([]appAccess, len(pl.Apps))
			errs := make([]error, len(pl.Apps))
			var wg sync.WaitGroup
			for i := range pl.Apps {
				a := &pl.Apps[i]
				rows[i] = appAccess{Name: a.Name, URL: a.URL, AccountID: a.AccountID, Region: a.Region}
				if a.UserRoleArn == "" {
					rows[i].Access = "no-user-role"
					continue
				}
				wg.Add(1)
				go func(r *appAccess, errp *error) {
					defer wg.Done()
					_, err := (&appCredentials{c: c, pl: pl, app: a, duration: defaultSessionSeconds}).Retrieve(cmd.Context())
					var ee *exitError
					switch {
					case err == nil:
						r.Access = "yes"
					case errors.As(err, &ee) && ee.code == ExitNotAllowed:
						r.Access = "no"
					default:
						r.Access, r.Detail, *errp = "error", err.Error(), err
					}
				}(&rows[i], &errs[i])
			}
			wg.Wait()
			// A failure that is not about one app (login, network) fails
			// the listing with its own exit code.
			for _, err := range errs {
				var ee *exitError
				if errors.As(err, &ee) && (ee.code == ExitLogin || ee.code == ExitNetwork) {
					return err
				}
			}
			if c.jsonOut {
				return c.out.json(rows)
			}
			var table [][]string
			for _, r := range rows {
				table = append(table, []string{r.Name, c.out.state(r.Access), r.URL, r.AccountID, r.Region})
			}
			return c.out.table([]string{"APP", "ACCESS", "URL", "ACCOUNT", "REGION"}, table)
		},
	}
}
