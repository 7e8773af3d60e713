// Package logretention maps the day counts CloudWatch Logs accepts as a log
// group's retention to CDK's RetentionDays enum, for the constructs and apps
// that take a retention in days from their props or config.
package logretention

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
)

var byDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// Lookup returns CDK's enum value for days and whether CloudWatch Logs
// accepts that many days.
func Lookup(days int) (awslogs.RetentionDays, bool) {
	r, ok := byDays[days]
	return r, ok
}

// Allowed returns the accepted day counts in ascending order.
func Allowed() []int {
	out := make([]int, 0, len(byDays))
	for d := range byDays {
		out = append(out, d)
	}
	sort.Ints(out)
	return out
}

// Check returns nil when CloudWatch Logs accepts days, else an error naming
// field, the value and the accepted values.
func Check(field string, days int) error {
	if _, ok := byDays[days]; ok {
		return nil
	}
	parts := make([]string, 0, len(byDays))
	for _, d := range Allowed() {
		parts = append(parts, strconv.Itoa(d))
	}
	return fmt.Errorf("%s %d: must be one of the values CloudWatch Logs accepts (%s)", field, days, strings.Join(parts, ", "))
}
