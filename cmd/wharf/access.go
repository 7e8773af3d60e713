package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// accessList is who may assume an app's user role, read from the role's
// trust policy (the one place the allowed users are published: the
// platform descriptor carries no emails).
type accessList struct {
	App  string `json:"app"`
	Role string `json:"role"`
	// Users are the allowed emails (the email claim, compared
	// case-insensitively), Subjects the allowed sub claims (exact).
	Users    []string `json:"users"`
	Subjects []string `json:"subjects"`
}

// trustPolicy is the part of an IAM policy document `wharf access` reads.
type trustPolicy struct {
	Statement []struct {
		Effect    string                                `json:"Effect"`
		Action    any                                   `json:"Action"`
		Condition map[string]map[string]json.RawMessage `json:"Condition"`
	} `json:"Statement"`
}

// stringOrList decodes an IAM value that is a string or a list of strings.
func stringOrList(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// parseAccess extracts the allowed emails and subjects from a user role's
// trust policy (AssumeRolePolicyDocument, URL-encoded as IAM returns it,
// or plain JSON): the values of <issuer>:email and <issuer>:sub conditions
// of Allow statements.
func parseAccess(doc string) (users, subjects []string, err error) {
	if dec, derr := url.QueryUnescape(doc); derr == nil {
		doc = dec
	}
	var p trustPolicy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, nil, fmt.Errorf("the user role's trust policy is not a policy document: %w", err)
	}
	seenU, seenS := map[string]bool{}, map[string]bool{}
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, keys := range st.Condition {
			for key, raw := range keys {
				switch {
				case strings.HasSuffix(key, ":email"):
					for _, v := range stringOrList(raw) {
						if v := strings.ToLower(v); !seenU[v] {
							seenU[v] = true
							users = append(users, v)
						}
					}
				case strings.HasSuffix(key, ":sub"):
					for _, v := range stringOrList(raw) {
						if !seenS[v] {
							seenS[v] = true
							subjects = append(subjects, v)
						}
					}
				}
			}
		}
	}
	sort.Strings(users)
	sort.Strings(subjects)
	if users == nil {
		users = []string{}
	}
	if subjects == nil {
		subjects = []string{}
	}
	return users, subjects, nil
}

// readAccess calls iam:GetRole on the app's own user role.
func (t *target) readAccess(ctx context.Context) (*accessList, error) {
	roleName := t.app.UserRoleArn[strings.LastIndex(t.app.UserRoleArn, "/")+1:]
	out, err := iam.NewFromConfig(t.cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)})
	if err != nil {
		return nil, awsErr("read the trust policy of "+roleName, err)
	}
	users, subjects, err := parseAccess(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, err
	}
	return &accessList{App: t.app.Name, Role: t.app.UserRoleArn, Users: users, Subjects: subjects}, nil
}

// accessChangeSteps says how to add or remove a user: a platform config
// edit and a deploy of the app's stack, done by an administrator.
func accessChangeSteps(prefix, app, verb, email string) string {
	stack := contract.Names{Prefix: prefix}.AppStack(app)
	edit := fmt.Sprintf("add %q to", email)
	if verb == "remove" {
		edit = fmt.Sprintf("remove %q from", email)
	}
	return fmt.Sprintf("Access to %[1]s is the allowedUsers list of the platform config; wharf does not change it itself.\n"+
		"An administrator of the platform:\n"+
		"  1. edits the platform config (wharf.yaml): under apps, in the entry with name: %[1]s,\n"+
		"     %[2]s allowedUsers (or allowedSubjects, for an issuer user ID);\n"+
		"  2. checks it:  WHARF_CONFIG=wharf.yaml make synth\n"+
		"  3. deploys the app's stack:  WHARF_CONFIG=wharf.yaml npx cdk deploy %[3]s\n"+
		"The user role's trust policy changes with the deploy: a removed user gets no new credentials,\n"+
		"but credentials already issued stay valid until they expire (at most 1 hour).", app, edit, stack)
}

func (c *cli) accessCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access",
		Short: "List who may use an app (from its user role's trust policy); add/remove print the steps",
		Long: "List the emails and issuer subjects allowed to assume the app's user role, read from the\n" +
			"role's trust policy. Changing them is a platform config edit plus a deploy by an\n" +
			"administrator: 'wharf access add|remove EMAIL' prints exactly those steps and changes nothing.",
		Example: "  wharf access -a api\n  wharf access -a api --json\n  wharf access add -a api carol@example.com",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := c.target(cmd.Context())
			if err != nil {
				return err
			}
			list, err := t.readAccess(cmd.Context())
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(list)
			}
			var rows [][]string
			for _, u := range list.Users {
				rows = append(rows, []string{u, "email"})
			}
			for _, s := range list.Subjects {
				rows = append(rows, []string{s, "subject"})
			}
			return c.out.table([]string{"USER", "MATCHED BY"}, rows)
		},
	}
	for _, verb := range []string{"add", "remove"} {
		cmd.AddCommand(&cobra.Command{
			Use:     verb + " EMAIL",
			Short:   "Print the config edit and deploy that " + verb + "s a user (changes nothing)",
			Example: "  wharf access " + verb + " -a api carol@example.com",
			Args:    cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				app, err := c.appName()
				if err != nil {
					return err
				}
				pl, err := c.platform()
				if err != nil {
					return err
				}
				if pl.App(app) == nil {
					return usagef("no app %q on this platform", app)
				}
				if !strings.Contains(args[0], "@") {
					return usagef("EMAIL %q: give the user's email address (the email claim of their login)", args[0])
				}
				fmt.Fprintln(c.out.stdout, accessChangeSteps(pl.Prefix, app, verb, strings.ToLower(args[0])))
				return nil
			},
		})
	}
	return cmd
}
