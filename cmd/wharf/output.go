package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
)

// output writes tables on a terminal and plain tab-separated text when
// piped; colour only on a terminal and never with NO_COLOR
// (https://no-color.org).
type output struct {
	stdout, stderr io.Writer
	tty, errTTY    bool
	color          bool
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newOutput(stdout, stderr io.Writer) *output {
	o := &output{stdout: stdout, stderr: stderr, tty: isTerminal(stdout), errTTY: isTerminal(stderr)}
	_, noColor := os.LookupEnv("NO_COLOR")
	o.color = o.tty && !noColor && os.Getenv("TERM") != "dumb"
	return o
}

func (o *output) paint(code, s string) string {
	if !o.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (o *output) errorLabel() string {
	if o.errTTY && o.color {
		return "\x1b[31mwharf:\x1b[0m"
	}
	return "wharf:"
}

// state colours a phase or outcome word.
func (o *output) state(s string) string {
	switch strings.ToLower(s) {
	case "deployed", "succeeded", "yes", "ok":
		return o.paint("32", s)
	case "failed", "fault", "timed_out", "stopped", "no":
		return o.paint("31", s)
	case "building", "releasing", "deploying", "in_progress":
		return o.paint("33", s)
	}
	return s
}

// json prints v as indented JSON.
func (o *output) json(v any) error {
	enc := json.NewEncoder(o.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints rows under headers: a bordered table on a terminal,
// tab-separated lines (header first) otherwise.
func (o *output) table(headers []string, rows [][]string) error {
	if !o.tty {
		fmt.Fprintln(o.stdout, strings.Join(headers, "\t"))
		for _, r := range rows {
			fmt.Fprintln(o.stdout, strings.Join(r, "\t"))
		}
		return nil
	}
	t := tablewriter.NewWriter(o.stdout)
	h := make([]any, len(headers))
	for i, s := range headers {
		h[i] = s
	}
	t.Header(h...)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// fields prints key: value pairs (info-style output).
func (o *output) fields(pairs [][2]string) {
	width := 0
	for _, p := range pairs {
		width = max(width, len(p[0]))
	}
	for _, p := range pairs {
		if o.tty {
			fmt.Fprintf(o.stdout, "%s  %s\n", o.paint("1", fmt.Sprintf("%-*s", width, p[0])), p[1])
		} else {
			fmt.Fprintf(o.stdout, "%s\t%s\n", p[0], p[1])
		}
	}
}

// infof prints a message for the user on stderr.
func (o *output) infof(format string, args ...any) {
	fmt.Fprintf(o.stderr, format+"\n", args...)
}

// progress shows what a wait is waiting for: a spinner line on a terminal,
// one line per change otherwise.
type progress struct {
	o     *output
	mu    sync.Mutex
	msg   string
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup
}

func (o *output) progress(msg string) *progress {
	p := &progress{o: o, msg: msg, start: time.Now(), stop: make(chan struct{})}
	if !o.errTTY {
		fmt.Fprintln(o.stderr, msg)
		return p
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
		tick := time.NewTicker(120 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			p.mu.Lock()
			fmt.Fprintf(o.stderr, "\r\x1b[K%s %s (%ds)", frames[i%len(frames)], p.msg, int(time.Since(p.start).Seconds()))
			p.mu.Unlock()
			select {
			case <-p.stop:
				fmt.Fprint(o.stderr, "\r\x1b[K")
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// update changes the message (printed as a new line when not a terminal).
func (p *progress) update(msg string) {
	p.mu.Lock()
	changed := msg != p.msg
	p.msg = msg
	p.mu.Unlock()
	if changed && !p.o.errTTY {
		fmt.Fprintln(p.o.stderr, msg)
	}
}

// println prints a permanent line above the spinner.
func (p *progress) println(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.o.errTTY {
		fmt.Fprintf(p.o.stderr, "\r\x1b[K%s\n", line)
	} else {
		fmt.Fprintln(p.o.stderr, line)
	}
}

func (p *progress) end() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.done.Wait()
}
