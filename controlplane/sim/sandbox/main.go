// Command sandbox runs Wharf's real control plane against the simulated
// AWS account of package sim and prints a timeline of a realistic
// scenario: two apps, several builds in a row, a failing release, a config
// change, a circuit-breaker rollback. No AWS account is needed.
//
//	go run ./controlplane/sim/sandbox [-v]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/wharf-paas/wharf/controlplane/sim"
)

func main() {
	verbose := flag.Bool("v", false, "print every event, AWS call and state write")
	flag.Parse()
	res, err := sim.RunSandbox(os.Stdout, *verbose)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	if res.Violated() {
		os.Exit(2)
	}
}
