package logretention

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

func TestLookup(t *testing.T) {
	if r, ok := Lookup(30); !ok || r != awslogs.RetentionDays_ONE_MONTH {
		t.Errorf("Lookup(30) = %v, %v; want ONE_MONTH, true", r, ok)
	}
	if r, ok := Lookup(3653); !ok || r != awslogs.RetentionDays_TEN_YEARS {
		t.Errorf("Lookup(3653) = %v, %v; want TEN_YEARS, true", r, ok)
	}
	for _, d := range []int{0, -1, 2, 31, 366, 3654} {
		if _, ok := Lookup(d); ok {
			t.Errorf("Lookup(%d) accepted a retention CloudWatch Logs refuses", d)
		}
	}
}

func TestAllowedIsSortedAndComplete(t *testing.T) {
	got := Allowed()
	if len(got) != 22 || got[0] != 1 || got[len(got)-1] != 3653 {
		t.Fatalf("Allowed() = %v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("Allowed() not ascending: %v", got)
		}
	}
}

func TestCheckNamesFieldAndValues(t *testing.T) {
	if err := Check("logRetentionDays", 14); err != nil {
		t.Errorf("Check(14) = %v", err)
	}
	err := Check("logRetentionDays", 10)
	if err == nil {
		t.Fatal("Check(10) accepted 10 days")
	}
	for _, want := range []string{"logRetentionDays 10:", "(1, 3, 5, 7, 14, 30,", "3653)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
