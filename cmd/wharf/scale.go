package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/spf13/cobra"

	"github.com/wharf-paas/wharf/contract"
)

// webProcess is the process type behind the app's load balancer: the only
// one a requests-per-target autoscaling policy can track.
const webProcess = "web"

// scaleFlags are the flags of `wharf scale`.
type scaleFlags struct {
	cpu, memory       int32
	cpuTarget         int32
	requestsPerTarget int32
	reset             bool
	wait              bool
	timeout           time.Duration
}

// scaleArg is one parsed PROCESS=COUNT, PROCESS=MIN-MAX or bare PROCESS
// argument.
type scaleArg struct {
	raw     string
	process string
	count   *int32 // PROCESS=N
	min     int32  // PROCESS=MIN-MAX
	max     int32
	ranged  bool
}

// parseScaleArg parses one argument of `wharf scale`. Errors are usage
// errors that quote the argument.
func parseScaleArg(arg string) (scaleArg, error) {
	a := scaleArg{raw: arg}
	name, value, hasValue := strings.Cut(arg, "=")
	a.process = name
	if err := contract.ValidateProcessName(name); err != nil {
		var fe *contract.FieldError
		msg := err.Error()
		if errors.As(err, &fe) {
			msg = fe.Msg
		}
		return a, usagef("argument %q: process %s", arg, msg)
	}
	if !hasValue {
		return a, nil // size only (--cpu/--memory), checked by the caller
	}
	num := func(s, what string) (int32, error) {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n < 0 {
			return 0, usagef("argument %q: %s %q is not a whole number (0 or more); use PROCESS=COUNT or PROCESS=MIN-MAX", arg, what, s)
		}
		if n > contract.MaxScaleCount {
			return 0, usagef("argument %q: %s %d is over the maximum of %d", arg, what, n, contract.MaxScaleCount)
		}
		return int32(n), nil
	}
	if lo, hi, isRange := strings.Cut(value, "-"); isRange {
		var err error
		if a.min, err = num(lo, "minimum"); err != nil {
			return a, err
		}
		if a.max, err = num(hi, "maximum"); err != nil {
			return a, err
		}
		if a.max == 0 || a.min > a.max {
			return a, usagef("argument %q: a range needs 0 <= MIN <= MAX and MAX >= 1 (got %d-%d)", arg, a.min, a.max)
		}
		a.ranged = true
		return a, nil
	}
	n, err := num(value, "count")
	if err != nil {
		return a, err
	}
	a.count = &n
	return a, nil
}

// applyScaleArgs merges the arguments and flags into a copy of cur and
// returns it. A count replaces a range and the other way round; a size
// (--cpu/--memory) is kept unless given; a range keeps its previous target
// unless a target flag is given.
func applyScaleArgs(cur *contract.ScaleSetting, args []scaleArg, f scaleFlags) (*contract.ScaleSetting, error) {
	next := &contract.ScaleSetting{Version: contract.ScaleVersion, Processes: map[string]contract.ProcessScale{}}
	if cur != nil {
		for k, v := range cur.Processes {
			next.Processes[k] = v
		}
	}
	if (f.cpu == 0) != (f.memory == 0) {
		return nil, usagef("--cpu and --memory go together (a Fargate size, e.g. --cpu 512 --memory 1024)")
	}
	if f.cpuTarget != 0 && f.requestsPerTarget != 0 {
		return nil, usagef("--cpu-target and --requests-per-target are exclusive: a range tracks one metric")
	}
	seen := map[string]bool{}
	for _, a := range args {
		if seen[a.process] {
			return nil, usagef("argument %q: process %s is named twice", a.raw, a.process)
		}
		seen[a.process] = true
		p := next.Processes[a.process]
		switch {
		case a.count != nil:
			p.Count, p.Min, p.Max, p.CPUTarget, p.RequestsPerTarget = a.count, 0, 0, 0, 0
			if f.cpuTarget != 0 || f.requestsPerTarget != 0 {
				return nil, usagef("argument %q: --cpu-target and --requests-per-target need a range (%s=MIN-MAX)", a.raw, a.process)
			}
		case a.ranged:
			wasRange := p.Max > 0
			p.Count, p.Min, p.Max = nil, a.min, a.max
			if !wasRange || f.cpuTarget != 0 || f.requestsPerTarget != 0 {
				p.CPUTarget, p.RequestsPerTarget = f.cpuTarget, f.requestsPerTarget
			}
		default: // bare PROCESS: a size only
			if f.cpu == 0 {
				return nil, usagef("argument %q: give a count (%s=3), a range (%s=2-10), or a size with --cpu and --memory", a.raw, a.process, a.process)
			}
			if f.cpuTarget != 0 || f.requestsPerTarget != 0 {
				return nil, usagef("argument %q: --cpu-target and --requests-per-target need a range (%s=MIN-MAX)", a.raw, a.process)
			}
		}
		if p.RequestsPerTarget != 0 && a.process != webProcess {
			return nil, usagef("argument %q: --requests-per-target applies only to the %s process (the one behind the load balancer)", a.raw, webProcess)
		}
		if f.cpu != 0 {
			p.CPU, p.Memory = f.cpu, f.memory
		}
		next.Processes[a.process] = p
	}
	if err := next.Validate(); err != nil {
		return nil, scaleFieldError(err, args, f)
	}
	return next, nil
}

// scaleFieldError turns a contract.FieldError on
// scale.processes.<p>[.<field>] into a usage error naming the argument or
// flag the user typed.
func scaleFieldError(err error, args []scaleArg, f scaleFlags) error {
	fe := contract.AsFieldError(err)
	if fe == nil {
		return err
	}
	rest := strings.TrimPrefix(fe.Field, "scale.processes.")
	proc, field, _ := strings.Cut(rest, ".")
	what := ""
	for _, a := range args {
		if a.process == proc {
			what = fmt.Sprintf("argument %q", a.raw)
		}
	}
	switch field {
	case "cpu":
		what = fmt.Sprintf("--cpu %d", f.cpu)
	case "memory":
		what = fmt.Sprintf("--memory %d (with --cpu %d)", f.memory, f.cpu)
	case "cpuTarget":
		what = fmt.Sprintf("--cpu-target %d", f.cpuTarget)
	case "requestsPerTarget":
		what = fmt.Sprintf("--requests-per-target %d", f.requestsPerTarget)
	}
	if what == "" {
		what = "the stored scale setting (process " + proc + ")"
	}
	return usagef("%s: %s", what, fe.Msg)
}

// readScale reads the scale setting: nil (and version 0) when none is set.
func (t *target) readScale(ctx context.Context) (*contract.ScaleSetting, int64, error) {
	name := contract.Names{Prefix: t.pl.Prefix}.ScaleParameter(t.app.Name)
	out, err := ssm.NewFromConfig(t.cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		var nf *ssmtypes.ParameterNotFound
		if errors.As(err, &nf) {
			return nil, 0, nil
		}
		return nil, 0, awsErr("read scale setting "+name, err)
	}
	s, err := contract.ParseScaleSetting([]byte(aws.ToString(out.Parameter.Value)))
	if err != nil {
		// Say so, and let a write replace it.
		return nil, out.Parameter.Version, fmt.Errorf("the stored scale setting %s is not valid (%w); 'wharf scale --reset' removes it", name, err)
	}
	return s, out.Parameter.Version, nil
}

// effectiveProcess is one row of `wharf scale` without arguments.
type effectiveProcess struct {
	Name string `json:"name"`
	// Source is "scale" (the scale setting names it) or "build".
	Source  string                 `json:"source"`
	Setting *contract.ProcessScale `json:"setting,omitempty"`
	// Desired is the desired count the control plane last published
	// (omitted for a process the deployed build does not declare).
	Desired *int `json:"desired,omitempty"`
	// Effective is the scale the control plane last published for the
	// process (the setting over the build's values), nil when not
	// deployed.
	Effective *contract.StatusProcess `json:"effective,omitempty"`
	// Deployed is false for a process the scale setting names but the
	// deployed build does not declare (ignored until a build does).
	Deployed bool `json:"deployed"`
}

type scaleOutput struct {
	App       string                 `json:"app"`
	Setting   *contract.ScaleSetting `json:"setting"`
	Processes []effectiveProcess     `json:"processes"`
	// Refusal is the control plane's refusal of the scale setting, if any.
	Refusal *contract.StatusRefusal `json:"refusal,omitempty"`
}

// effectiveString renders a published process scale as `wharf scale`
// takes it ("3", "2-10 cpu 60%", with " 512/1024" for a size).
func effectiveString(sp contract.StatusProcess) string {
	p := contract.ProcessScale{CPU: int32(sp.CPU), Memory: int32(sp.Memory)}
	if sp.Autoscaled {
		p.Min, p.Max, p.CPUTarget, p.RequestsPerTarget = int32(sp.Min), int32(sp.Max), int32(sp.CPUTarget), int32(sp.RequestsPerTarget)
	} else {
		d := int32(sp.Desired)
		p.Count = &d
	}
	return p.String()
}

// refusalOf returns st's refusal of the request kind (and ID, if given).
func refusalOf(st *appStatus, kind, id string) *contract.StatusRefusal {
	if st == nil {
		return nil
	}
	for i := range st.Refusals {
		r := st.Refusals[i]
		if r.Request == kind && (id == "" || r.ID == id) {
			return &r
		}
	}
	return nil
}

func effectiveScale(app string, s *contract.ScaleSetting, st *appStatus) scaleOutput {
	out := scaleOutput{App: app, Setting: s, Processes: []effectiveProcess{}}
	names := map[string]bool{}
	if st != nil {
		for p := range st.Processes {
			names[p] = true
		}
	}
	if s != nil {
		for p := range s.Processes {
			names[p] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for p := range names {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		e := effectiveProcess{Name: p, Source: "build"}
		if st != nil {
			if sp, ok := st.Processes[p]; ok {
				d := sp.Desired
				e.Desired, e.Deployed, e.Effective = &d, true, &sp
			}
		}
		if s != nil {
			if ps, ok := s.Processes[p]; ok {
				ps := ps
				e.Source, e.Setting = "scale", &ps
			}
		}
		out.Processes = append(out.Processes, e)
	}
	return out
}

func (c *cli) scaleCommand() *cobra.Command {
	var f scaleFlags
	cmd := &cobra.Command{
		Use:   "scale [PROCESS=COUNT | PROCESS=MIN-MAX | PROCESS]...",
		Short: "Show or change process counts, autoscaling ranges and sizes (overrides the build until --reset)",
		Long: "Without arguments, show the effective scale: per process, where its count comes from\n" +
			"(the scale setting or the build) and the desired count the control plane last published.\n\n" +
			"With arguments, change the app's scale setting (/<prefix>/apps/<app>/scale); the control\n" +
			"plane applies it in its next reconcile. A process named in the setting takes its count\n" +
			"(or autoscaling range) and size from there; every other process, and every field left\n" +
			"unset, from the build. --reset deletes the setting (or, with processes, their entries).\n\n" +
			"PROCESS=N is a fixed count, PROCESS=MIN-MAX turns on target tracking (CPU, --cpu-target,\n" +
			"default 60%; or --requests-per-target for web). --cpu/--memory set the Fargate size of the\n" +
			"processes named.\n\n" + exitCodesHelp,
		Example: "  wharf scale -a api\n  wharf scale -a api web=3 worker=0\n  wharf scale -a api web=2-10 --cpu-target 60\n" +
			"  wharf scale -a api web=2-10 --requests-per-target 500\n  wharf scale -a api worker --cpu 1024 --memory 2048\n" +
			"  wharf scale -a api --reset\n  wharf scale -a api --reset worker\n  wharf scale -a api web=4 --wait",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.scale(cmd.Context(), args, f)
		},
	}
	fl := cmd.Flags()
	fl.Int32Var(&f.cpu, "cpu", 0, "Fargate CPU units of the processes named (256, 512, 1024, ...); with --memory")
	fl.Int32Var(&f.memory, "memory", 0, "memory in MiB of the processes named; with --cpu")
	fl.Int32Var(&f.cpuTarget, "cpu-target", 0, fmt.Sprintf("average CPU percent a range tracks (%d-%d, default %d)", contract.MinTargetPercent, contract.MaxTargetPercent, contract.DefaultCPUTarget))
	fl.Int32Var(&f.requestsPerTarget, "requests-per-target", 0, "requests per target per minute a range of the web process tracks (instead of CPU)")
	fl.BoolVar(&f.reset, "reset", false, "remove the scale setting (or the entries of the processes named): back to the build's values")
	fl.BoolVarP(&f.wait, "wait", "w", false, "wait until the status document shows the change applied")
	fl.DurationVar(&f.timeout, "timeout", 15*time.Minute, "how long --wait waits")
	return cmd
}

func (c *cli) scale(ctx context.Context, rawArgs []string, f scaleFlags) error {
	var args []scaleArg
	for _, r := range rawArgs {
		a, err := parseScaleArg(r)
		if err != nil {
			return err
		}
		if f.reset && (a.count != nil || a.ranged) {
			return usagef("argument %q: --reset takes process names only (or none, to reset every process)", r)
		}
		args = append(args, a)
	}
	if f.reset && (f.cpu != 0 || f.memory != 0 || f.cpuTarget != 0 || f.requestsPerTarget != 0) {
		return usagef("--reset takes no --cpu, --memory, --cpu-target or --requests-per-target")
	}
	if len(args) == 0 && !f.reset {
		if f.cpu != 0 || f.memory != 0 || f.cpuTarget != 0 || f.requestsPerTarget != 0 || f.wait {
			return usagef("name the processes to change (e.g. web=3, or web with --cpu/--memory)")
		}
		return c.showScale(ctx)
	}
	// Everything the user typed is checked before any AWS call.
	if !f.reset {
		if _, err := applyScaleArgs(nil, args, f); err != nil {
			return err
		}
	}
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	return c.writeScale(ctx, t, args, f)
}

func (c *cli) showScale(ctx context.Context) error {
	t, err := c.target(ctx)
	if err != nil {
		return err
	}
	s, _, err := t.readScale(ctx)
	if err != nil {
		return err
	}
	st, err := t.readStatus(ctx)
	if err != nil && !errors.Is(err, errNoStatus) {
		return err
	}
	out := effectiveScale(t.app.Name, s, st)
	out.Refusal = refusalOf(st, "scale", "")
	if out.Refusal != nil {
		c.out.infof("The control plane refused the scale setting: %s: %s", out.Refusal.Reason, out.Refusal.Detail)
	}
	if c.jsonOut {
		return c.out.json(out)
	}
	var rows [][]string
	for _, p := range out.Processes {
		setting, effective := "(build)", ""
		if p.Setting != nil {
			setting = p.Setting.String()
			if p.Setting.Count == nil && p.Setting.Max == 0 {
				setting += " (count from the build)"
			}
		}
		switch {
		case !p.Deployed:
			effective = "not in the deployed build"
		case p.Effective != nil:
			effective = effectiveString(*p.Effective)
		}
		rows = append(rows, []string{p.Name, p.Source, setting, effective})
	}
	if len(rows) == 0 {
		c.out.infof("%s has no deployed processes and no scale setting yet.", t.app.Name)
		return nil
	}
	return c.out.table([]string{"PROCESS", "SOURCE", "SETTING", "EFFECTIVE"}, rows)
}

// writeScale reads the setting, applies the change, validates it and
// writes it (or deletes it), then optionally waits.
func (c *cli) writeScale(ctx context.Context, t *target, args []scaleArg, f scaleFlags) error {
	name := contract.Names{Prefix: t.pl.Prefix}.ScaleParameter(t.app.Name)
	client := ssm.NewFromConfig(t.cfg)
	cur, version, err := t.readScale(ctx)
	if err != nil && !f.reset {
		return err
	}
	before, _ := t.readStatus(ctx)
	var next *contract.ScaleSetting
	if f.reset {
		if len(args) > 0 && cur != nil {
			next = &contract.ScaleSetting{Version: contract.ScaleVersion, Processes: map[string]contract.ProcessScale{}}
			for k, v := range cur.Processes {
				next.Processes[k] = v
			}
			for _, a := range args {
				delete(next.Processes, a.process)
			}
			if len(next.Processes) == 0 {
				next = nil
			}
		}
	} else {
		if next, err = applyScaleArgs(cur, args, f); err != nil {
			return err
		}
	}
	if next == nil {
		if version == 0 {
			c.out.infof("%s has no scale setting: every process already takes its count and size from the build.", t.app.Name)
			return c.printScaleResult(t, nil)
		}
		if _, err := client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)}); err != nil {
			var nf *ssmtypes.ParameterNotFound
			if !errors.As(err, &nf) {
				return awsErr("delete scale setting "+name, err)
			}
		}
		c.out.infof("Removed the scale setting of %s: every process returns to the build's count and size.", t.app.Name)
	} else {
		next.UpdatedAt = time.Now().UTC().Format(time.RFC3339)
		next.UpdatedBy = c.requester()
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		out, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(string(data)),
			Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true),
			Description: aws.String("Wharf runtime scale of " + t.app.Name + " (wharf scale); overrides the build until deleted")})
		if err != nil {
			return awsErr("write scale setting "+name, err)
		}
		if out.Version != version+1 {
			c.out.infof("Note: someone else changed the scale setting at the same time (version %d → %d); check with 'wharf scale -a %s'.", version, out.Version, t.app.Name)
		}
		for _, a := range args {
			if before != nil && len(before.Processes) > 0 {
				if _, ok := before.Processes[a.process]; !ok {
					c.out.infof("Note: the deployed build declares no %s process; the setting applies once a build does.", a.process)
				}
			}
			c.out.infof("%s %s: %s", t.app.Name, a.process, next.Processes[a.process].String())
		}
	}
	c.out.infof("The control plane applies this in its next reconcile; see 'wharf status -a %s' (or pass --wait).", t.app.Name)
	if f.wait {
		if err := c.waitForScale(ctx, t, before, next, f.timeout); err != nil {
			return err
		}
	}
	return c.printScaleResult(t, next)
}

func (c *cli) printScaleResult(t *target, s *contract.ScaleSetting) error {
	if !c.jsonOut {
		return nil
	}
	return c.out.json(map[string]any{"app": t.app.Name, "setting": s})
}

// scaleApplied reports whether st shows s applied: the control plane has
// published a status since before, nothing is in progress, and every
// deployed process s names has the count s asks for (or a count inside its
// range).
func scaleApplied(before, st *appStatus, s *contract.ScaleSetting) bool {
	if st == nil || !settled(st) {
		return false
	}
	if before != nil && st.UpdatedAt == before.UpdatedAt {
		return false
	}
	if s == nil {
		return true
	}
	for name, p := range s.Processes {
		sp, ok := st.Processes[name]
		if !ok {
			continue // not in the deployed build: ignored until a build declares it
		}
		switch {
		case p.Count != nil && (sp.Autoscaled || sp.Desired != int(*p.Count)):
			return false
		case p.Max > 0 && sp.Autoscaled && (sp.Min != int(p.Min) || sp.Max != int(p.Max)):
			return false
		case p.Max > 0 && !sp.Autoscaled && sp.Max != 0:
			return false // published with ranges, but not this one
		case p.Max > 0 && (sp.Desired < int(p.Min) || sp.Desired > int(p.Max)):
			return false
		case p.CPU != 0 && sp.CPU != 0 && (sp.CPU != int(p.CPU) || sp.Memory != int(p.Memory)):
			return false
		}
	}
	return true
}

func (c *cli) waitForScale(ctx context.Context, t *target, before *appStatus, s *contract.ScaleSetting, timeout time.Duration) error {
	return c.waitFor(ctx, t, timeout, "Waiting for the control plane to apply the scale setting", func(st *appStatus) (bool, error) {
		if r := refusalOf(st, "scale", ""); r != nil && (before == nil || refusalOf(before, "scale", "") == nil || *refusalOf(before, "scale", "") != *r) {
			return true, codef(ExitFailed, "the control plane refused the scale setting of %s: %s: %s ('wharf scale -a %s --reset' returns to the build)", t.app.Name, r.Reason, r.Detail, t.app.Name)
		}
		if st != nil && st.Phase == "failed" && (before == nil || st.UpdatedAt != before.UpdatedAt) && settled(st) {
			return true, codef(ExitFailed, "the control plane could not apply the scale of %s: %s: %s", t.app.Name, st.Reason, st.Detail)
		}
		return scaleApplied(before, st, s), nil
	})
}

// waitFor follows the status document until done says so (or fails),
// then prints the app's state.
func (c *cli) waitFor(ctx context.Context, t *target, timeout time.Duration, msg string, done func(*appStatus) (bool, error)) error {
	return c.follow(ctx, t, timeout, watch{msg: msg, done: done, finish: func(st *appStatus) error {
		c.out.infof("%s: %s", t.app.Name, c.out.state(describeStatus(st)))
		return nil
	}})
}

// requester is who the request documents name as their writer: the
// logged-in email, when known.
func (c *cli) requester() string {
	s, err := loadSession()
	if err != nil {
		return ""
	}
	return s.Email
}
