package integration

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// cutOff answers its first request with a body that fails with
// net.ErrClosed halfway (the loopback race of aws/aws-sdk-go-v2#1825),
// later ones in full.
type cutOff struct{ n int }

func (c *cutOff) Do(req *http.Request) (*http.Response, error) {
	c.n++
	body := io.Reader(strings.NewReader(`{"ok":true}`))
	if c.n == 1 {
		body = io.MultiReader(strings.NewReader(`{"ok"`), errReader{net.ErrClosed})
	}
	return &http.Response{StatusCode: 200, Body: io.NopCloser(body), Header: http.Header{}}, nil
}

// TestCallLogCountsOperationsNotCutOffAttempts: an attempt whose response
// was cut off is retried by the SDK (TransientOnlyRetryer); the log counts
// the operation once, so call counts do not depend on the loopback's
// timing (TestAPICallsPerDeployGrowLinearly once saw 102 for 101), and the
// cut-off error still reaches the SDK, which retries on it.
func TestCallLogCountsOperationsNotCutOffAttempts(t *testing.T) {
	base := &cutOff{}
	l := &CallLog{base: base}
	send := func() (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", bytes.NewReader([]byte(`{}`)))
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices")
		return l.Do(req)
	}
	resp, err := send()
	if err == nil {
		_, err = io.ReadAll(resp.Body)
	}
	if !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the cut-off attempt's error = %v, want net.ErrClosed for the SDK to retry on", err)
	}
	if _, err := send(); err != nil {
		t.Fatal(err)
	}
	if n := len(l.Calls()); n != 1 {
		t.Errorf("%d calls logged for one operation sent twice (the first cut off), want 1", n)
	}
	if n := l.Count("ecs", "DescribeServices"); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
}

// TestCallLogUnlogsACutOffBodyTheSDKReads: the same for a body the SDK
// reads itself (S3 GetObject).
func TestCallLogUnlogsACutOffBodyTheSDKReads(t *testing.T) {
	l := &CallLog{base: &cutOff{}}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/bucket/key", nil)
	resp, err := l.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read = %v, want net.ErrClosed", err)
	}
	if n := len(l.Calls()); n != 0 {
		t.Errorf("%d calls logged for a cut-off attempt, want 0", n)
	}
	if resp, err = l.Do(req); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if n := l.Count("s3", "GetObject"); n != 1 {
		t.Errorf("GetObject counted %d times, want 1", n)
	}
}
