package sim

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is what the simulator drives: the control plane's Handle.
type Handler interface {
	Handle(ctx context.Context, ev events.CloudWatchEvent) error
}

// Lambda's asynchronous invocation retries a failed event twice (after
// about one and two minutes) before sending it to the dead-letter queue.
const maxAttempts = 3

type delivery struct {
	seq     int
	ev      Event
	foreign bool
	at      time.Time
	attempt int
	taken   bool
}

// bus is EventBridge plus the Lambda's asynchronous invocation: it
// delivers emitted events to the handler with latency, the injected event
// faults and Lambda's retries.
type bus struct {
	w       *World
	h       Handler
	pending []*delivery
	handled map[string]bool
	held    map[string][]Event
	seq     int
}

func newBus(w *World, h Handler) *bus {
	b := &bus{w: w, h: h, handled: map[string]bool{}, held: map[string][]Event{}}
	w.emitHook = b.onEmit
	return b
}

func (b *bus) onEmit(ev Event) {
	w := b.w
	if ev.lost {
		// Lost for good, even after the faults are switched off: as if
		// every delivery failed and the event went to the dead-letter
		// queue. Only the sweep's build listing can find the build.
		w.tracef("  FAULT event lost with every copy (build-events-lost) [%s]", ev.Envelope.ID[:8])
		return
	}
	if !w.faultsOn {
		b.send(ev, w.between(100*time.Millisecond, 1500*time.Millisecond), 1)
		return
	}
	f := w.Faults
	if w.chance(f.Drop) {
		w.fault("event-drop")
		w.tracef("  FAULT event dropped [%s]", ev.Envelope.ID[:8])
		return
	}
	lat := w.between(100*time.Millisecond, 1500*time.Millisecond)
	if w.chance(f.Delay) {
		w.fault("event-delay")
		lat += w.between(30*time.Second, 8*time.Minute)
		w.tracef("  FAULT event delayed by %s [%s]", lat.Round(time.Second), ev.Envelope.ID[:8])
	}
	if ev.App != "" && w.chance(f.Reorder) {
		w.fault("event-reorder")
		w.tracef("  FAULT event held back until after the next %s event [%s]", ev.App, ev.Envelope.ID[:8])
		b.held[ev.App] = append(b.held[ev.App], ev)
		app := ev.App
		w.after(2*time.Minute, "release held events", func() { b.flush(app, 0) })
		return
	}
	b.send(ev, lat, 1)
	if ev.App != "" {
		b.flush(ev.App, lat+10*time.Millisecond)
	}
	if ev.App != "" && w.chance(f.Foreign) {
		b.sendForeign(ev)
	}
	if w.chance(f.Duplicate) {
		w.fault("event-duplicate")
		extra := w.between(0, 90*time.Second)
		w.tracef("  FAULT event duplicated (+%s) [%s]", extra.Round(time.Second), ev.Envelope.ID[:8])
		b.send(ev, lat+extra, 1)
	}
}

// sendForeign delivers a copy of ev as if it came from another account:
// another registered account the app does not live in when there is one,
// an unregistered account otherwise. The control plane must reject it
// without any AWS call.
func (b *bus) sendForeign(ev Event) {
	w := b.w
	w.fault("foreign-event")
	home := w.apps[ev.App].reg.AccountID
	acct := "777788889999"
	for _, id := range sortedKeys(w.accounts) {
		if id != home {
			acct = id
			break
		}
	}
	env := ev.Envelope
	env.ID = w.uuid()
	env.AccountID = acct
	env.Resources = append([]string(nil), env.Resources...)
	for i, r := range env.Resources {
		env.Resources[i] = strings.Replace(r, ":"+home+":", ":"+acct+":", 1)
	}
	w.tracef("  FAULT a copy arrives from account %s [%s]", acct, env.ID[:8])
	b.seq++
	d := &delivery{seq: b.seq, ev: Event{Envelope: env, Summary: "(from account " + acct + ") " + ev.Summary}, at: w.now, attempt: 1, foreign: true}
	w.after(w.between(100*time.Millisecond, 1500*time.Millisecond), "deliver", func() { b.invokeWithRetry(d) })
}

func (b *bus) flush(app string, after time.Duration) {
	held := b.held[app]
	delete(b.held, app)
	for i, ev := range held {
		b.send(ev, after+time.Duration(i)*time.Millisecond, 1)
	}
}

func (b *bus) flushAll() {
	for _, app := range sortedKeys(b.held) {
		b.flush(app, 0)
	}
}

func (b *bus) send(ev Event, after time.Duration, attempt int) {
	b.seq++
	d := &delivery{seq: b.seq, ev: ev, at: b.w.now.Add(after), attempt: attempt}
	b.pending = append(b.pending, d)
	b.w.after(after, "deliver", func() { b.deliver(d) })
}

func (b *bus) remove(d *delivery) {
	for i, p := range b.pending {
		if p == d {
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			return
		}
	}
}

func (b *bus) deliver(d *delivery) {
	b.remove(d)
	if d.taken {
		return
	}
	b.invokeWithRetry(d)
}

func (b *bus) invokeWithRetry(d *delivery) {
	err := b.invoke(d.ev, d.attempt, d.foreign)
	if err == nil {
		return
	}
	if d.attempt >= maxAttempts {
		b.w.tracef("  event %s dead-lettered after %d attempts", d.ev.Envelope.ID[:8], d.attempt)
		return
	}
	b.send(d.ev, time.Duration(d.attempt)*time.Minute+b.w.between(0, 10*time.Second), d.attempt+1)
}

// invoke runs one Handle call (possibly nested inside another one's AWS
// call, for the concurrency fault).
func (b *bus) invoke(ev Event, attempt int, foreign bool) error {
	w := b.w
	w.invSeq++
	inv := &invocation{id: w.invSeq, ev: ev, foreign: foreign, parent: w.inv, app: ev.App, eventID: ev.Envelope.ID, handled: b.handled[ev.Envelope.ID]}
	if w.inv != nil {
		inv.depth = w.inv.depth + 1
	}
	if w.faultsOn && ev.App != "" && w.inv == nil {
		inv.crashPlanned = w.chance(w.Faults.Crash)
		inv.concPlanned = w.chance(w.Faults.Concurrent)
		inv.nested = func() { b.nested(inv) }
	}
	tag := ""
	if attempt > 1 {
		tag = " (retry " + strconv.Itoa(attempt-1) + ")"
	}
	if inv.handled {
		tag += " (already handled)"
	}
	w.tracef("deliver #%d %s [%s]%s", inv.id, ev.Summary, ev.Envelope.ID[:8], tag)
	w.inv = inv
	t0 := time.Now()
	err := b.h.Handle(context.Background(), ev.Envelope)
	if inv.depth == 0 {
		w.Stats.HandleTime += time.Since(t0)
	}
	w.inv = inv.parent
	if foreign && inv.calls > 0 {
		w.violate(InvForeignRejected, "an event from account %s for another account's app cost %d AWS call(s)", ev.Envelope.AccountID, inv.calls)
	}
	w.Stats.Invocations++
	w.Stats.Deliveries++
	if err != nil {
		w.Stats.HandleErrors++
		w.tracef("  #%d → error: %v", inv.id, shortErr(err))
		return err
	}
	b.handled[ev.Envelope.ID] = true
	w.tracef("  #%d → ok", inv.id)
	return nil
}

// nested runs a second invocation for the same app inside outer's AWS
// write: the next pending, not yet handled event of that app, or a second
// copy of outer's own event (EventBridge delivering it twice at once).
func (b *bus) nested(outer *invocation) {
	w := b.w
	var pick *delivery
	for _, d := range b.pending {
		if d.ev.App == outer.app && !d.taken && !b.handled[d.ev.Envelope.ID] && (pick == nil || d.at.Before(pick.at)) {
			pick = d
		}
	}
	w.fault("concurrent-invocation")
	if pick != nil {
		pick.taken = true
		w.tracef("  FAULT concurrent invocation: %s delivered now, inside #%d", pick.ev.Summary, outer.id)
		b.invokeWithRetry(pick)
		return
	}
	w.tracef("  FAULT concurrent invocation: event %s delivered twice at once", outer.eventID[:8])
	b.invokeWithRetry(&delivery{ev: outer.ev, attempt: 1})
}
