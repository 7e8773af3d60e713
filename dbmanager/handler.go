package dbmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/wharf-paas/wharf/contract"
)

// Actions performs validated requests; [*Manager] implements it.
type Actions interface {
	Do(ctx context.Context, req contract.DBRequest) contract.DBResponse
}

// Handler is the Lambda handler. It accepts two payloads:
//
//   - a direct [contract.DBRequest]; the [contract.DBResponse] is the invocation result, and
//     failures are reported in its "error" member, not as a Lambda function
//     error, so callers always get the structured error;
//   - a CloudFormation custom-resource event (it has RequestType and
//     ResponseURL); the outcome is PUT to the presigned ResponseURL and the
//     invocation returns null. See [CustomResourceProperties].
type Handler struct {
	// Actions does the work. Nil means InitError is reported for every
	// request.
	Actions Actions
	// InitError, when set, fails every request with it. The Lambda's main
	// uses it for configuration errors so that CloudFormation still gets a
	// FAILED response instead of waiting for an hour.
	InitError error
	// HTTPClient sends custom-resource responses; default a client with a
	// 15 s timeout.
	HTTPClient *http.Client
	// Logger receives one line per request; default slog.Default().
	Logger *slog.Logger
	// ResponseMargin is the time kept back before the invocation deadline
	// to send a custom-resource response; default 10 s.
	ResponseMargin time.Duration
	// RetryDelay is the pause before the first retry of a failed
	// custom-resource response PUT (doubled for each of 3 retries);
	// default 1 s.
	RetryDelay time.Duration
}

// Handle is the function passed to lambda.Start.
func (h *Handler) Handle(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
	var probe struct {
		RequestType string `json:"RequestType"`
		ResponseURL string `json:"ResponseURL"`
	}
	if json.Unmarshal(payload, &probe) == nil && probe.RequestType != "" && probe.ResponseURL != "" {
		return nil, h.handleCustomResource(ctx, payload)
	}
	resp := h.direct(ctx, payload)
	out, err := json.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return out, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) direct(ctx context.Context, payload json.RawMessage) contract.DBResponse {
	req, err := ParseRequest(payload)
	if err != nil {
		resp := failure(req.Action, asError("", "parse request", err))
		h.log(req, resp, 0)
		return resp
	}
	start := time.Now()
	resp := h.do(ctx, req)
	h.log(req, resp, time.Since(start))
	return resp
}

// do runs a request, turning a panic into an internal error.
func (h *Handler) do(ctx context.Context, req contract.DBRequest) (resp contract.DBResponse) {
	defer func() {
		if r := recover(); r != nil {
			h.logger().Error("panic", "action", req.Action, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp = failure(req.Action, &Error{DBError: contract.DBError{Rule: contract.DBRuleInternal, Message: fmt.Sprintf("internal error: %v", r)}})
		}
	}()
	if h.InitError != nil || h.Actions == nil {
		err := h.InitError
		if err == nil {
			err = fmt.Errorf("handler has no actions configured")
		}
		e := asError("", "configuration", err)
		if e.Rule == contract.DBRuleDatabaseError {
			e.Rule = contract.DBRuleConfig
		}
		return failure(req.Action, e)
	}
	if _, err := validateRequest(req); err != nil {
		return failure(req.Action, err)
	}
	return h.Actions.Do(ctx, req)
}

// log writes one line per request. The SQL text is not logged, only its
// size and id.
func (h *Handler) log(req contract.DBRequest, resp contract.DBResponse, d time.Duration) {
	attrs := []any{"action", req.Action, "database", resp.Database, "ok", resp.OK, "changed", resp.Changed, "ms", d.Milliseconds()}
	if req.ID != "" {
		attrs = append(attrs, "id", req.ID, "sqlBytes", len(req.SQL))
	}
	if resp.Error != nil {
		attrs = append(attrs, "field", resp.Error.Field, "rule", resp.Error.Rule, "error", resp.Error.Message)
		h.logger().Warn("request failed", attrs...)
		return
	}
	h.logger().Info("request done", attrs...)
}
