package rie

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

type echoOut struct {
	Said      string            `json:"said"`
	Env       map[string]string `json:"env"`
	Function  string            `json:"function"`
	Deadline  bool              `json:"deadline"`
	RequestID string            `json:"requestId"`
}

func invoke(t *testing.T, f *Function, payload string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	status, body, err := f.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	return status, string(body)
}

func TestEmulator(t *testing.T) {
	t.Setenv("WHARF_RIE_LEAK_CHECK", "leaked")
	bootstrap := BuildBootstrap(t, "./internal/rie/testdata/echo")
	f := Start(t, bootstrap, map[string]string{"ECHO_VAR": "hello", "AWS_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": "echo"})

	t.Run("success", func(t *testing.T) {
		status, body := invoke(t, f, `{"say":"hi"}`)
		if status != 200 {
			t.Fatalf("status %d, body %s", status, body)
		}
		var o echoOut
		if err := json.Unmarshal([]byte(body), &o); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		if o.Said != "hi" || o.Function != "echo" || !o.Deadline || o.RequestID == "" {
			t.Errorf("unexpected echo %+v", o)
		}
		if o.Env["ECHO_VAR"] != "hello" || o.Env["AWS_REGION"] != "eu-west-1" || o.Env["AWS_ACCESS_KEY_ID"] != "test" {
			t.Errorf("environment not passed as configured: %v", o.Env)
		}
		if _, ok := o.Env["WHARF_RIE_LEAK_CHECK"]; ok {
			t.Errorf("host environment leaked into the function: %v", o.Env)
		}
	})
	t.Run("handler error is a 200 with an error body", func(t *testing.T) {
		status, body := invoke(t, f, `{"fail":true}`)
		if status != 200 || !strings.Contains(body, `"errorMessage":"asked to fail"`) {
			t.Errorf("status %d body %s", status, body)
		}
	})
	t.Run("panic is a 502 and the function recovers", func(t *testing.T) {
		status, body := invoke(t, f, `{"panic":true}`)
		if status != 502 || !strings.Contains(body, "asked to panic") {
			t.Errorf("status %d body %s", status, body)
		}
		status, body = invoke(t, f, `{"say":"after"}`)
		if status != 200 || !strings.Contains(body, `"said":"after"`) {
			t.Errorf("after panic: status %d body %s", status, body)
		}
	})
	t.Run("concurrent callers are serialised", func(t *testing.T) {
		var wg sync.WaitGroup
		bodies := make([]string, 4)
		for i := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				status, body, err := f.Invoke(ctx, []byte(`{"say":"c","sleepMs":50}`))
				if err != nil || status != 200 {
					t.Errorf("concurrent invoke %d: status %d err %v", i, status, err)
				}
				bodies[i] = string(body)
			}()
		}
		wg.Wait()
		for i, b := range bodies {
			if !strings.Contains(b, `"said":"c"`) {
				t.Errorf("concurrent invoke %d: body %s", i, b)
			}
		}
	})
	t.Run("stop ends the emulator", func(t *testing.T) {
		f.stop()
		select {
		case <-f.exited:
		default:
			t.Fatal("emulator still running after stop")
		}
		if _, _, err := f.Invoke(context.Background(), []byte(`{}`)); err == nil {
			t.Error("invoke after stop succeeded")
		}
	})
}
