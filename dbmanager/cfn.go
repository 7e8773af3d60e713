package dbmanager

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/wharf-paas/wharf/contract"
)

// Physical resource ids of the custom resources. A failed Create reports
// PhysicalIDFailedPrefix + RequestId, and the Delete CloudFormation sends
// during rollback then succeeds without doing anything.
const (
	PhysicalIDDatabasePrefix = "wharf-database:"
	PhysicalIDIAMAuthPrefix  = "wharf-iam-auth:"
	PhysicalIDSQLPrefix      = "wharf-sql:"
	PhysicalIDFailedPrefix   = "wharf-failed:"
)

// CustomResourceProperties are the ResourceProperties the manager accepts
// from CloudFormation (besides ServiceToken and ServiceTimeout).
// CloudFormation passes every value as a string.
//
//   - Action "create-database" with App or Database: Create and Update
//     create the database (idempotently). Delete drops it only when
//     DropOnDelete is "true"; by default the data is kept.
//   - Action "enable-iam-auth" (no other property): Create and Update
//     enable IAM authentication for the admin; Delete does nothing (the
//     admin stays on IAM authentication).
//   - Action "run-sql" with App or Database and Sql: Create, and Update when
//     Sql changes, run the script once; Delete does nothing. The
//     idempotency key is derived from the stack, the logical id and the SQL.
//
// destroy-database is not accepted: a resource whose Create drops a
// database would be a trap.
type CustomResourceProperties struct {
	Action       string
	App          string
	Database     string
	Sql          string
	DropOnDelete bool
}

// CustomResourceEvent is the part of a CloudFormation custom-resource
// request the manager reads.
type CustomResourceEvent struct {
	RequestType           string         `json:"RequestType"`
	ResponseURL           string         `json:"ResponseURL"`
	StackID               string         `json:"StackId"`
	RequestID             string         `json:"RequestId"`
	ResourceType          string         `json:"ResourceType"`
	LogicalResourceID     string         `json:"LogicalResourceId"`
	PhysicalResourceID    string         `json:"PhysicalResourceId,omitempty"`
	ResourceProperties    map[string]any `json:"ResourceProperties"`
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// CustomResourceResponse is the document PUT to the ResponseURL.
type CustomResourceResponse struct {
	Status             string            `json:"Status"`
	Reason             string            `json:"Reason,omitempty"`
	PhysicalResourceID string            `json:"PhysicalResourceId"`
	StackID            string            `json:"StackId"`
	RequestID          string            `json:"RequestId"`
	LogicalResourceID  string            `json:"LogicalResourceId"`
	Data               map[string]string `json:"Data,omitempty"`
}

// ParseCustomResourceProperties checks ResourceProperties strictly: unknown
// keys and values that are not strings or booleans are errors naming the
// property.
func ParseCustomResourceProperties(props map[string]any) (CustomResourceProperties, error) {
	var p CustomResourceProperties
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := props[k]
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case bool:
			s = strconv.FormatBool(x)
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return p, fieldErr(k, contract.DBRuleInvalidJSON, "must be a string")
		}
		switch k {
		case "ServiceToken", "ServiceTimeout":
		case "Action":
			p.Action = s
		case "App":
			p.App = s
		case "Database":
			p.Database = s
		case "Sql":
			p.Sql = s
		case "DropOnDelete":
			b, err := strconv.ParseBool(s)
			if err != nil {
				return p, fieldErr(k, contract.DBRulePattern, "%q must be true or false", s)
			}
			p.DropOnDelete = b
		default:
			return p, fieldErr(k, contract.DBRuleUnknown, "unknown property; allowed: Action, App, Database, Sql, DropOnDelete")
		}
	}
	switch p.Action {
	case contract.DBActionCreateDatabase, contract.DBActionEnableIAMAuth, contract.DBActionRunSQL:
	case contract.DBActionDestroyDatabase:
		return p, fieldErr("Action", contract.DBRuleNotAllowed, "%q is not available as a custom resource; use create-database with DropOnDelete", p.Action)
	case "":
		return p, fieldErr("Action", contract.DBRuleRequired, "is required: one of %s, %s, %s", contract.DBActionCreateDatabase, contract.DBActionEnableIAMAuth, contract.DBActionRunSQL)
	default:
		return p, fieldErr("Action", contract.DBRuleUnknown, "%q is not one of %s, %s, %s", p.Action, contract.DBActionCreateDatabase, contract.DBActionEnableIAMAuth, contract.DBActionRunSQL)
	}
	if p.DropOnDelete && p.Action != contract.DBActionCreateDatabase {
		return p, fieldErr("DropOnDelete", contract.DBRuleNotAllowed, "is only used by %s", contract.DBActionCreateDatabase)
	}
	return p, nil
}

// request turns the properties into a direct request.
func (p CustomResourceProperties) request(ev *CustomResourceEvent) contract.DBRequest {
	r := contract.DBRequest{Action: p.Action, App: p.App, Database: p.Database, SQL: p.Sql}
	if p.Action == contract.DBActionRunSQL {
		sum := sha256.Sum256([]byte(ev.StackID + "\x00" + ev.LogicalResourceID + "\x00" + p.Sql))
		r.ID = "cfn-" + hex.EncodeToString(sum[:20])
	}
	return r
}

// propertyFields maps request fields to property names in errors.
var propertyFields = map[string]string{"action": "Action", "app": "App", "database": "Database", "sql": "Sql", "id": "Sql"}

func (h *Handler) handleCustomResource(ctx context.Context, payload []byte) error {
	var ev CustomResourceEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		// Without a decodable event there is no way to answer.
		return fmt.Errorf("decode custom resource event: %w", err)
	}
	actCtx := ctx
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 2*h.margin() {
		var cancel context.CancelFunc
		actCtx, cancel = context.WithDeadline(ctx, dl.Add(-h.margin()))
		defer cancel()
	}
	start := time.Now()
	out := h.customResource(actCtx, &ev)
	h.logger().Info("custom resource", "requestType", ev.RequestType, "logicalId", ev.LogicalResourceID,
		"physicalId", out.PhysicalResourceID, "status", out.Status, "reason", out.Reason, "ms", time.Since(start).Milliseconds())
	if err := h.sendResponse(ctx, ev.ResponseURL, out); err != nil {
		// A Lambda error makes the asynchronous invocation retry; the
		// actions are idempotent, so the retry is safe.
		return err
	}
	return nil
}

func (h *Handler) margin() time.Duration {
	if h.ResponseMargin > 0 {
		return h.ResponseMargin
	}
	return 10 * time.Second
}

// customResource works out the response for one event.
func (h *Handler) customResource(ctx context.Context, ev *CustomResourceEvent) (out CustomResourceResponse) {
	out = CustomResourceResponse{
		Status:             "SUCCESS",
		PhysicalResourceID: ev.PhysicalResourceID,
		StackID:            ev.StackID,
		RequestID:          ev.RequestID,
		LogicalResourceID:  ev.LogicalResourceID,
	}
	if ev.RequestType == "Create" || out.PhysicalResourceID == "" {
		out.PhysicalResourceID = PhysicalIDFailedPrefix + ev.RequestID
	}
	fail := func(e *contract.DBError) CustomResourceResponse {
		out.Status = "FAILED"
		out.Reason = reason(e)
		return out
	}
	props, perr := ParseCustomResourceProperties(ev.ResourceProperties)
	var propErr *Error
	if perr != nil {
		propErr = asError("", "properties", perr)
	}

	switch ev.RequestType {
	case "Delete":
		switch {
		case strings.HasPrefix(ev.PhysicalResourceID, PhysicalIDFailedPrefix):
			out.Reason = "nothing to delete: the resource was never created"
			return out
		case propErr != nil:
			out.Reason = "nothing to delete: the properties were never valid (" + propErr.Message + ")"
			return out
		case props.Action != contract.DBActionCreateDatabase || !strings.HasPrefix(ev.PhysicalResourceID, PhysicalIDDatabasePrefix):
			out.Reason = "nothing to delete"
			return out
		case !props.DropOnDelete:
			out.Reason = "database kept (DropOnDelete is false)"
			return out
		}
		name := strings.TrimPrefix(ev.PhysicalResourceID, PhysicalIDDatabasePrefix)
		resp := h.do(ctx, contract.DBRequest{Action: contract.DBActionDestroyDatabase, Database: name})
		if !resp.OK {
			return fail(resp.Error)
		}
		out.Reason = "database dropped"
		return out
	case "Create", "Update":
		if propErr != nil {
			return fail(propErr.doc())
		}
		req := props.request(ev)
		resp := h.do(ctx, req)
		if !resp.OK {
			e := *resp.Error
			if f, ok := propertyFields[e.Field]; ok {
				e.Message = strings.Replace(e.Message, e.Field+": ", f+": ", 1)
				e.Field = f
			}
			return fail(&e)
		}
		out.Data = map[string]string{"Changed": strconv.FormatBool(resp.Changed)}
		switch req.Action {
		case contract.DBActionCreateDatabase:
			out.PhysicalResourceID = PhysicalIDDatabasePrefix + resp.Database
			out.Data["Database"] = resp.Database
			out.Data["Role"] = resp.Role
		case contract.DBActionEnableIAMAuth:
			out.PhysicalResourceID = PhysicalIDIAMAuthPrefix + resp.Role
			out.Data["AdminUser"] = resp.Role
		case contract.DBActionRunSQL:
			out.PhysicalResourceID = PhysicalIDSQLPrefix + req.ID
			out.Data["Database"] = resp.Database
			out.Data["Id"] = req.ID
		}
		return out
	default:
		return fail(fieldErr("RequestType", contract.DBRuleUnknown, "%q is not Create, Update or Delete", ev.RequestType).doc())
	}
}

// maxReason keeps the response well under CloudFormation's 4 KiB limit.
const maxReason = 1500

func reason(e *contract.DBError) string {
	r := e.Message
	if e.Rule != "" {
		r = "[" + e.Rule + "] " + r
	}
	if len(r) > maxReason {
		r = r[:maxReason] + "…"
	}
	if lambdacontext.LogStreamName != "" {
		r += " (log stream " + lambdacontext.LogStreamName + ")"
	}
	return r
}

// sendResponse PUTs the response to the presigned URL, retrying transport
// errors and 5xx answers three times.
func (h *Handler) sendResponse(ctx context.Context, url string, out CustomResourceResponse) error {
	body, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode custom resource response: %w", err)
	}
	client := h.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	delay := h.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("send custom resource response: %w (last error: %v)", ctx.Err(), lastErr)
			case <-time.After(delay):
			}
			delay *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("send custom resource response: bad ResponseURL: %w", err)
		}
		// The presigned URL signs no content type; send none.
		req.Header["Content-Type"] = nil
		req.ContentLength = int64(len(body))
		resp, err := client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode >= 500:
			lastErr = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
			continue
		default:
			return fmt.Errorf("send custom resource response: status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
		}
	}
	return fmt.Errorf("send custom resource response: gave up after 4 attempts: %w", lastErr)
}
