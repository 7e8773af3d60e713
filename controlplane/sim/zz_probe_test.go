package sim

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

func TestProbeOne(t *testing.T) {
	f := DefaultFaults
	if os.Getenv("MODE") == "lag" {
		f.SettingsChange = 0
	} else {
		f.ReadLag = 0
	}
	s, _ := strconv.Atoi(os.Getenv("SEED"))
	res, _ := Run(Options{Seed: uint64(s), Faults: &f, KeepTrace: true})
	fmt.Println(res.Report())
}
