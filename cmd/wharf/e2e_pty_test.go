package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ptyRun starts wharf on a pseudo-terminal and collects what it prints.
type ptyRun struct {
	cmd *exec.Cmd
	tty *os.File
	mu  sync.Mutex
	buf bytes.Buffer
	eof chan struct{}
}

func (h *home) startPTY(t *testing.T, extraEnv []string, args ...string) *ptyRun {
	t.Helper()
	cmd := exec.Command(wharfBin, args...)
	cmd.Env = append(append([]string{}, h.env...), extraEnv...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyRun{cmd: cmd, tty: tty, eof: make(chan struct{})}
	go func() {
		defer close(p.eof)
		b := make([]byte, 4096)
		for {
			n, err := tty.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		tty.Close()
	})
	return p
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// waitFor waits until the output contains s.
func (p *ptyRun) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(p.output(), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %q in terminal output:\n%q", s, p.output())
}

func (p *ptyRun) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		<-p.eof
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatalf("wharf did not exit; output:\n%q", p.output())
		return -1
	}
}

// TestTerminalLogin: on a terminal, login shows the code in bold and a
// spinner while it waits.
func TestTerminalLogin(t *testing.T) {
	w := getWorld(t)
	h := w.newHome(t)
	p := h.startPTY(t, nil, "login", "--platform", w.platform, "--no-browser")
	p.waitFor(t, "Waiting for you to approve the login")
	m := codeRe.FindStringSubmatch(p.output())
	if m == nil {
		t.Fatalf("no code: %q", p.output())
	}
	code := strings.TrimSuffix(strings.TrimPrefix(m[1], "\x1b[1m"), "\x1b[0m")
	if !strings.Contains(p.output(), "\x1b[1m"+code+"\x1b[0m") {
		t.Errorf("the code is not bold on a terminal: %q", p.output())
	}
	time.Sleep(300 * time.Millisecond) // let the spinner turn
	if err := w.oidc.Approve(code, "alice-0001"); err != nil {
		t.Fatal(err)
	}
	if c := p.wait(t); c != 0 {
		t.Fatalf("login exit %d: %q", c, p.output())
	}
	out := p.output()
	if !strings.Contains(out, "\r\x1b[K⠋ Waiting") && !strings.Contains(out, "\r\x1b[K⠙ Waiting") {
		t.Errorf("no spinner on the terminal: %q", out)
	}
	if !strings.Contains(out, "Logged in as alice@example.com") {
		t.Errorf("no confirmation: %q", out)
	}
}

// TestTerminalTablesAndColour: a table with borders and colour on a
// terminal; NO_COLOR keeps the table and drops the colour.
func TestTerminalTablesAndColour(t *testing.T) {
	h := alice(t)
	p := h.startPTY(t, nil, "apps")
	if c := p.wait(t); c != 0 {
		t.Fatalf("apps: %d %q", c, p.output())
	}
	out := p.output()
	if !strings.Contains(out, "│") || !strings.Contains(out, "\x1b[32myes\x1b[0m") {
		t.Errorf("apps on a terminal: no table or no colour:\n%q", out)
	}
	p = h.startPTY(t, []string{"NO_COLOR=1"}, "apps")
	p.wait(t)
	out = p.output()
	if !strings.Contains(out, "│") || strings.Contains(out, "\x1b[") {
		t.Errorf("apps with NO_COLOR: want a table without escape codes:\n%q", out)
	}
}

// TestTerminalLogsFollow: logs -f prints history, then new lines as they
// arrive, and ends cleanly on Ctrl-C.
func TestTerminalLogsFollow(t *testing.T) {
	h := alice(t)
	w := h.w
	w.putLogs(t, "/wharf/apps/api", "web/web/follow1", "first line before follow")
	p := h.startPTY(t, []string{"NO_COLOR=1"}, "logs", "-a", "api", "-f", "--process", "web", "--since", "5m")
	p.waitFor(t, "first line before follow")
	w.putLogs(t, "/wharf/apps/api", "web/web/follow1", "second line while following")
	p.waitFor(t, "second line while following")
	w.putLogs(t, "/wharf/apps/api", "worker/worker/x", "a worker line")
	time.Sleep(500 * time.Millisecond)
	if strings.Contains(p.output(), "a worker line") {
		t.Error("--process web printed a worker line")
	}
	if n := strings.Count(p.output(), "first line before follow"); n != 1 {
		t.Errorf("history line printed %d times", n)
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	if c := p.wait(t); c != 0 {
		t.Errorf("logs -f after Ctrl-C: exit %d\n%q", c, p.output())
	}
	_, _ = io.Discard.Write(nil)
}
