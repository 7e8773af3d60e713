// Command hello is Wharf's sample app: one binary with the three commands
// a Wharf app declares (Procfile):
//
//	hello web       serve HTTP on $PORT (default 8080); /healthz for the load balancer
//	hello worker    background work: a heartbeat log line every $WORKER_INTERVAL (default 30s)
//	hello migrate   the release command, run once per deploy before the services roll
//
// It uses only the standard library. See README.md for what a repository
// must contain to build and deploy on Wharf.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: hello web|worker|migrate")
		os.Exit(64)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "web":
		err = serve(ctx, ":"+env("PORT", "8080"))
	case "worker":
		var every time.Duration
		every, err = time.ParseDuration(env("WORKER_INTERVAL", "30s"))
		if err == nil {
			err = work(ctx, every, os.Stdout)
		}
	case "migrate":
		err = migrate(os.Getenv("DATABASE_URL"), os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q (web, worker or migrate)", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// handler is the web process: a greeting at / and a health check at
// /healthz (the app's HealthCheckPath).
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello from Wharf! (build %s)\n", env("WHARF_BUILD_NUMBER", "local"))
	})
	return mux
}

// serve runs the web process until ctx ends, then drains for up to 10 s
// (the load balancer's deregistration delay is 15 s by default).
func serve(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("web: listening on %s", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// work is the worker process: one line per tick until ctx ends.
func work(ctx context.Context, every time.Duration, out io.Writer) error {
	if every <= 0 {
		return fmt.Errorf("worker interval %s: must be positive", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "worker: stopping")
			return nil
		case <-t.C:
			fmt.Fprintf(out, "worker: heartbeat %d\n", n)
		}
	}
}

// migrate is the release command. A real app runs its schema migrations
// here; the sample checks that DATABASE_URL, when the app has a database,
// is a PostgreSQL URL and says what it would migrate.
func migrate(databaseURL string, out io.Writer) error {
	if databaseURL == "" {
		fmt.Fprintln(out, "migrate: no DATABASE_URL, nothing to migrate")
		return nil
	}
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return fmt.Errorf("migrate: DATABASE_URL is not a postgres:// URL")
	}
	fmt.Fprintf(out, "migrate: database %s on %s is up to date\n", u.Path, u.Hostname())
	return nil
}

// dbAddr returns host:port of a postgres:// URL (port 5432 by default).
func dbAddr(databaseURL string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("not a URL with a host: %q", databaseURL)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
