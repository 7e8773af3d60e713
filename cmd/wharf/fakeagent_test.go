package main

// fakeAgent is the agent side of the Session Manager data channel that
// ECS Exec's stream URL leads to, enough for an interactive shell: it
// checks the channel's token, performs the handshake (a SessionType
// action for an InteractiveCommands session, then HandshakeComplete),
// acknowledges every input message, resends its output until the client
// acknowledges it (as the agent does: the client drops a message that
// arrives before its session handler is ready), echoes the keys it receives as a
// terminal would, answers a line with "ran: <line>" and a prompt, and
// closes the channel on "exit". Messages are (de)serialized with the
// plugin's own message package, so the framing is the plugin's.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/session-manager-plugin/src/log"
	"github.com/aws/session-manager-plugin/src/message"
	"github.com/gorilla/websocket"
	"github.com/twinj/uuid"
)

type fakeAgent struct {
	srv *httptest.Server
	// token returns the token ECS issued for a session ID.
	token func(sessionID string) (string, bool)

	mu     sync.Mutex
	lines  []string // lines the client typed
	sizes  int      // terminal size messages
	opened []string // sessions whose channel was opened with the right token
	errs   []string
}

func newFakeAgent(t testing.TB, token func(string) (string, bool)) *fakeAgent {
	a := &fakeAgent{token: token}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

// url is the stream URL base for awsfake.SetExecStreamURL.
func (a *fakeAgent) url() string { return "ws" + strings.TrimPrefix(a.srv.URL, "http") }

func (a *fakeAgent) fail(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs = append(a.errs, strings.TrimSpace(strings.ReplaceAll(format, "%v", ""))+": "+strings.TrimSpace(sprint(args...)))
}

func sprint(args ...any) string {
	b, _ := json.Marshal(args)
	return string(b)
}

func (a *fakeAgent) serve(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/v1/data-channel/")
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		a.fail("upgrade", err)
		return
	}
	defer conn.Close()
	lg := log.NewMockLog()
	// The client's first message is OpenDataChannelInput (text JSON) with
	// the session's token.
	_, first, err := conn.ReadMessage()
	if err != nil {
		a.fail("read open", err)
		return
	}
	var open struct {
		TokenValue, ClientId, MessageSchemaVersion string
	}
	_ = json.Unmarshal(first, &open)
	if want, ok := a.token(id); !ok || open.TokenValue != want {
		a.fail("wrong token", id, open.TokenValue)
		return
	}
	a.mu.Lock()
	a.opened = append(a.opened, id)
	a.mu.Unlock()
	var wmu sync.Mutex
	seq := int64(0)
	unacked := map[int64][]byte{}
	write := func(msgType string, pt message.PayloadType, payload []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		m := message.ClientMessage{MessageType: msgType, SchemaVersion: 1, CreatedDate: uint64(time.Now().UnixMilli()),
			SequenceNumber: seq, Flags: 0, MessageId: uuid.NewV4(), Payload: payload, PayloadType: uint32(pt)}
		b, err := m.SerializeClientMessage(lg)
		if err != nil {
			a.fail("serialize", err)
			return
		}
		if msgType == message.OutputStreamMessage {
			unacked[seq] = b
			seq++
		}
		_ = conn.WriteMessage(websocket.BinaryMessage, b)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			wmu.Lock()
			for s := int64(0); s < seq; s++ {
				if b, ok := unacked[s]; ok {
					_ = conn.WriteMessage(websocket.BinaryMessage, b)
				}
			}
			wmu.Unlock()
		}
	}()
	out := func(s string) { write(message.OutputStreamMessage, message.Output, []byte(s)) }
	params, _ := json.Marshal(message.SessionTypeRequest{SessionType: "InteractiveCommands", Properties: map[string]any{}})
	req, _ := json.Marshal(message.HandshakeRequestPayload{AgentVersion: "3.3.1802.0",
		RequestedClientActions: []message.RequestedClientAction{{ActionType: message.SessionType, ActionParameters: params}}})
	write(message.OutputStreamMessage, message.HandshakeRequestPayloadType, req)
	var line strings.Builder
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var m message.ClientMessage
		if err := m.DeserializeClientMessage(lg, raw); err != nil {
			a.fail("deserialize", err)
			return
		}
		if err := m.Validate(); err != nil {
			a.fail("invalid message", err)
			return
		}
		if m.MessageType == message.AcknowledgeMessage {
			var ack message.AcknowledgeContent
			if err := json.Unmarshal(m.Payload, &ack); err == nil {
				wmu.Lock()
				delete(unacked, ack.SequenceNumber)
				wmu.Unlock()
			}
			continue
		}
		if m.MessageType != message.InputStreamMessage {
			continue
		}
		ack, _ := json.Marshal(message.AcknowledgeContent{MessageType: m.MessageType, MessageId: m.MessageId.String(), SequenceNumber: m.SequenceNumber, IsSequentialMessage: true})
		write(message.AcknowledgeMessage, 0, ack)
		switch message.PayloadType(m.PayloadType) {
		case message.HandshakeResponsePayloadType:
			var resp message.HandshakeResponsePayload
			_ = json.Unmarshal(m.Payload, &resp)
			if len(resp.Errors) > 0 {
				a.fail("handshake", resp.Errors)
			}
			done, _ := json.Marshal(message.HandshakeCompletePayload{HandshakeTimeToComplete: time.Millisecond})
			write(message.OutputStreamMessage, message.HandshakeCompletePayloadType, done)
			out("$ ")
		case message.Size:
			a.mu.Lock()
			a.sizes++
			a.mu.Unlock()
		case message.Output:
			for _, b := range string(m.Payload) {
				if b != '\r' && b != '\n' {
					line.WriteRune(b)
					out(string(b)) // the remote terminal's echo
					continue
				}
				l := line.String()
				line.Reset()
				a.mu.Lock()
				a.lines = append(a.lines, l)
				a.mu.Unlock()
				if l == "exit" {
					closed, _ := json.Marshal(message.ChannelClosed{MessageId: uuid.NewV4().String(), SessionId: id, MessageType: message.ChannelClosedMessage,
						SchemaVersion: 1, CreatedDate: time.Now().UTC().Format(time.RFC3339), Output: "bye"})
					write(message.ChannelClosedMessage, 0, closed)
					return
				}
				out("\r\nran: " + l + "\r\n$ ")
			}
		}
	}
}

func (a *fakeAgent) state() (lines []string, sizes int, opened, errs []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.lines...), a.sizes, append([]string(nil), a.opened...), append([]string(nil), a.errs...)
}
