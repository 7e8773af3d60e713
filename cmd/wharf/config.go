package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/spf13/cobra"
)

// configKeyRe is an environment variable name.
var configKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// maxConfigValue is Parameter Store's standard-tier value limit (4 KB).
const maxConfigValue = 4096

func checkKey(k string) error {
	if !configKeyRe.MatchString(k) || len(k) > 200 {
		return usagef("config key %q: must be an environment variable name (letters, digits, _; not starting with a digit)", k)
	}
	return nil
}

func (c *cli) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and change an app's config vars (SecureStrings in Parameter Store)",
		Long: "Config vars are SecureString parameters under the app's config path. A change makes the\n" +
			"control plane restart the app's processes; --wait follows that restart.",
	}
	var wait bool
	var fromStdin bool
	list := &cobra.Command{
		Use: "list", Short: "List config vars and their values", Args: cobra.NoArgs,
		Example: "  wharf config list -a api\n  wharf config list -a api --json",
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, vars, err := c.configVars(cmd.Context())
			if err != nil {
				return err
			}
			_ = t
			if c.jsonOut {
				return c.out.json(vars)
			}
			keys := sortedKeys(vars)
			var rows [][]string
			for _, k := range keys {
				rows = append(rows, []string{k, vars[k]})
			}
			return c.out.table([]string{"KEY", "VALUE"}, rows)
		},
	}
	get := &cobra.Command{
		Use: "get KEY", Short: "Print one config var's value", Args: cobra.ExactArgs(1),
		Example: "  wharf config get -a api DATABASE_POOL",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkKey(args[0]); err != nil {
				return err
			}
			t, err := c.target(cmd.Context())
			if err != nil {
				return err
			}
			out, err := ssm.NewFromConfig(t.cfg).GetParameter(cmd.Context(), &ssm.GetParameterInput{Name: aws.String(t.app.ConfigPrefix + args[0]), WithDecryption: aws.Bool(true)})
			if err != nil {
				var nf *ssmtypes.ParameterNotFound
				if errors.As(err, &nf) {
					return fmt.Errorf("%s is not set on %s", args[0], t.app.Name)
				}
				return awsErr("get "+args[0], err)
			}
			v := aws.ToString(out.Parameter.Value)
			if c.jsonOut {
				return c.out.json(map[string]string{args[0]: v})
			}
			fmt.Fprintln(c.out.stdout, v)
			return nil
		},
	}
	set := &cobra.Command{
		Use:   "set KEY=VALUE [KEY2=VALUE2 ...] | set KEY - | set KEY --stdin",
		Short: "Set config vars (a secret's value can come from stdin)",
		Example: "  wharf config set -a api LOG_LEVEL=debug WORKERS=4\n" +
			"  printf '%s' \"$TOKEN\" | wharf config set -a api API_TOKEN -\n" +
			"  wharf config set -a api LOG_LEVEL=info --wait",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars, err := c.parseSetArgs(args, fromStdin)
			if err != nil {
				return err
			}
			return c.writeConfig(cmd.Context(), vars, nil, wait)
		},
	}
	set.Flags().BoolVar(&fromStdin, "stdin", false, "read the value of the one KEY from stdin")
	unset := &cobra.Command{
		Use: "unset KEY [KEY2 ...]", Short: "Remove config vars", Args: cobra.MinimumNArgs(1),
		Example: "  wharf config unset -a api OLD_FLAG OTHER_FLAG",
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, k := range args {
				if err := checkKey(k); err != nil {
					return err
				}
			}
			return c.writeConfig(cmd.Context(), nil, args, wait)
		},
	}
	imp := &cobra.Command{
		Use: "import FILE", Short: "Set every var of a .env file (KEY=VALUE lines) or a JSON object", Args: cobra.ExactArgs(1),
		Example: "  wharf config import -a api production.env",
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			vars, err := parseConfigFile(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return c.writeConfig(cmd.Context(), vars, nil, wait)
		},
	}
	export := &cobra.Command{
		Use: "export", Short: "Print every var as KEY=VALUE lines (.env format; --json for an object)", Args: cobra.NoArgs,
		Example: "  wharf config export -a api > api.env",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, vars, err := c.configVars(cmd.Context())
			if err != nil {
				return err
			}
			if c.jsonOut {
				return c.out.json(vars)
			}
			for _, k := range sortedKeys(vars) {
				fmt.Fprintf(c.out.stdout, "%s=%s\n", k, quoteEnv(vars[k]))
			}
			return nil
		},
	}
	for _, w := range []*cobra.Command{set, unset, imp} {
		w.Flags().BoolVar(&wait, "wait", false, "wait until the control plane has restarted the app with the change")
	}
	cmd.AddCommand(list, get, set, unset, imp, export)
	return cmd
}

func (c *cli) parseSetArgs(args []string, fromStdin bool) (map[string]string, error) {
	vars := map[string]string{}
	if fromStdin || (len(args) == 2 && args[1] == "-") {
		if len(args) != 1 && !(len(args) == 2 && args[1] == "-") {
			return nil, usagef("with --stdin, give exactly one KEY")
		}
		if err := checkKey(args[0]); err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(c.stdin, maxConfigValue+1))
		if err != nil {
			return nil, err
		}
		vars[args[0]] = strings.TrimSuffix(string(data), "\n")
	} else {
		for _, a := range args {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				return nil, usagef("%q: use KEY=VALUE (or 'KEY -' to read the value from stdin)", a)
			}
			if err := checkKey(k); err != nil {
				return nil, err
			}
			vars[k] = v
		}
	}
	for k, v := range vars {
		if v == "" {
			return nil, usagef("%s: Parameter Store cannot store an empty value; use 'wharf config unset %s'", k, k)
		}
		if len(v) > maxConfigValue {
			return nil, usagef("%s: the value is longer than Parameter Store's 4096 characters", k)
		}
	}
	return vars, nil
}

// configVars reads every var (decrypted).
func (c *cli) configVars(ctx context.Context) (*target, map[string]string, error) {
	t, err := c.target(ctx)
	if err != nil {
		return nil, nil, err
	}
	vars := map[string]string{}
	p := ssm.NewGetParametersByPathPaginator(ssm.NewFromConfig(t.cfg), &ssm.GetParametersByPathInput{
		Path: aws.String(strings.TrimSuffix(t.app.ConfigPrefix, "/")), WithDecryption: aws.Bool(true), Recursive: aws.Bool(false),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, awsErr("list config", err)
		}
		for _, prm := range page.Parameters {
			vars[strings.TrimPrefix(aws.ToString(prm.Name), t.app.ConfigPrefix)] = aws.ToString(prm.Value)
		}
	}
	return t, vars, nil
}

// writeConfig sets and deletes vars, then optionally waits for the
// restart.
func (c *cli) writeConfig(ctx context.Context, set map[string]string, unset []string, wait bool) error {
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	var before *appStatus
	if wait {
		if before, err = t.readStatus(ctx); err != nil && !errors.Is(err, errNoStatus) {
			return err
		}
	}
	client := ssm.NewFromConfig(t.cfg)
	var done []string
	for _, k := range sortedKeys(set) {
		_, err := client.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(t.app.ConfigPrefix + k), Value: aws.String(set[k]), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		})
		if err != nil {
			if len(done) > 0 {
				c.out.infof("Set before the error: %s", strings.Join(done, ", "))
			}
			return awsErr("set "+k, err)
		}
		done = append(done, k)
	}
	var missing []string
	for i := 0; i < len(unset); i += 10 { // DeleteParameters takes at most 10 names
		var names []string
		for _, k := range unset[i:min(i+10, len(unset))] {
			names = append(names, t.app.ConfigPrefix+k)
		}
		out, err := client.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: names})
		if err != nil {
			return awsErr("unset", err)
		}
		for _, n := range out.InvalidParameters {
			missing = append(missing, strings.TrimPrefix(n, t.app.ConfigPrefix))
		}
		for _, n := range out.DeletedParameters {
			done = append(done, "-"+strings.TrimPrefix(n, t.app.ConfigPrefix))
		}
	}
	if len(done) > 0 {
		c.out.infof("Changed %s on %s: %s", plural(len(done), "var"), t.app.Name, strings.Join(done, " "))
	}
	if len(missing) > 0 {
		return fmt.Errorf("not set on %s, nothing to unset: %s", t.app.Name, strings.Join(missing, ", "))
	}
	if !wait || len(done) == 0 {
		if len(done) > 0 {
			c.out.infof("The control plane restarts the app's processes with the change (follow with 'wharf status --wait').")
		}
		return nil
	}
	return c.waitForDeploy(ctx, t, before, 15*time.Minute)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseConfigFile reads a JSON object of strings or .env lines: KEY=VALUE,
// blank lines and # comments ignored, an optional "export " prefix, values
// optionally in single or double quotes (double quotes understand \n, \"
// and \\).
func parseConfigFile(data []byte) (map[string]string, error) {
	vars := map[string]string{}
	if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "{") {
		if err := json.Unmarshal(data, &vars); err != nil {
			return nil, fmt.Errorf("not a JSON object of strings: %w", err)
		}
	} else {
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			line = strings.TrimPrefix(line, "export ")
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: expected KEY=VALUE", n)
			}
			k = strings.TrimSpace(k)
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
				v = v[1 : len(v)-1]
			} else if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				u, err := strconv.Unquote(v)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				v = u
			}
			if _, dup := vars[k]; dup {
				return nil, fmt.Errorf("line %d: %s is set twice", n, k)
			}
			vars[k] = v
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	for k, v := range vars {
		if err := checkKey(k); err != nil {
			return nil, err
		}
		if v == "" || len(v) > maxConfigValue {
			return nil, usagef("%s: values must be 1 to 4096 characters", k)
		}
	}
	return vars, nil
}

// quoteEnv quotes a value for a .env line when it needs it.
func quoteEnv(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\"'\\#$`") {
		return v
	}
	return strconv.Quote(v)
}
