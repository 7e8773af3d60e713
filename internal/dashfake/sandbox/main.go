// Command sandbox runs the web dashboard against the local world of
// internal/dashfake (OIDC provider, STS, kumo, awsfake behind a CORS
// gateway) with no AWS account: open the printed address, sign in as
// alice@example.com, and watch a deploy of app "api" play out every minute
// (every third one fails its release) while its processes write logs.
// Run it with `make sandbox-dashboard`; stop it with Ctrl-C.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/wharf-paas/wharf/internal/dashfake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-dashboard:", err)
		os.Exit(1)
	}
}

func run() error {
	w, err := dashfake.New(filepath.Join("web", "dist"), []dashfake.App{
		{Name: "api", Users: []string{"alice@example.com"}},
		{Name: "billing", Users: []string{"bob@example.com"}},
		{Name: "shop", Users: []string{"alice@example.com", "bob@example.com"}},
	})
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Printf("Wharf dashboard sandbox\n  open    %s\n  sign in as alice@example.com, password %s (allowed on api and shop; billing shows no access)\n  Ctrl-C to stop\n", w.Site.URL, dashfake.Password)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logs := time.NewTicker(2 * time.Second)
	defer logs.Stop()
	build := int64(43)
	next := time.Now().Add(10 * time.Second)
	step := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-logs.C:
			_ = w.Log(ctx, "api", "web", fmt.Sprintf("GET /api/orders 200 %d.%dms", 5+time.Now().Second()%20, time.Now().Nanosecond()%10))
		}
		if time.Now().Before(next) {
			continue
		}
		var err error
		switch step {
		case 0:
			err = w.StartBuild(ctx, "api", build)
			fmt.Printf("build #%d: building\n", build)
		case 1:
			err = w.Advance(ctx, "api", build, "releasing", "", "")
		case 2:
			if build%3 == 0 {
				err = w.Advance(ctx, "api", build, "failed", "ReleaseFailed", "release task exited with code 1: migration failed")
				step = 3
			} else {
				err = w.Advance(ctx, "api", build, "deploying", "", "")
			}
		case 3:
			err = w.Advance(ctx, "api", build, "deployed", "", "")
		}
		if err != nil {
			return err
		}
		step++
		next = time.Now().Add(15 * time.Second)
		if step > 3 {
			step = 0
			build++
			next = time.Now().Add(30 * time.Second)
		}
	}
}
