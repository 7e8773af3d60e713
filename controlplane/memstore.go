package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

// MemoryStore is an in-memory [Store] with the same semantics as the
// DynamoDB one (conditional writes, atomic history, event expiry). It is
// safe for concurrent use. States are stored as JSON so callers never share
// memory with the store.
type MemoryStore struct {
	mu      sync.Mutex
	apps    map[string][]byte
	records map[string]map[string][]byte
	events  map[string]time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		apps:    map[string][]byte{},
		records: map[string]map[string][]byte{},
		events:  map[string]time.Time{},
	}
}

func appKey(account, app string) string { return account + "#" + app }

func recordKey(build int64, seq int) string {
	if seq == 0 {
		return fmt.Sprintf("%012d", build)
	}
	return fmt.Sprintf("%012d#config#%06d", build, seq)
}

// LoadApp implements [Store].
func (m *MemoryStore) LoadApp(_ context.Context, account, app string) (*AppState, error) {
	m.mu.Lock()
	data, ok := m.apps[appKey(account, app)]
	m.mu.Unlock()
	if !ok {
		return &AppState{Account: account, App: app}, nil
	}
	var st AppState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("memory store: decode state of %s/%s: %w", account, app, err)
	}
	return &st, nil
}

// SaveApp implements [Store].
func (m *MemoryStore) SaveApp(_ context.Context, st *AppState, records ...*DeployRecord) error {
	next := *st
	next.Version = st.Version + 1
	data, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("memory store: encode state: %w", err)
	}
	recs := make(map[string][]byte, len(records))
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("memory store: encode record: %w", err)
		}
		recs[r.Key()] = b
	}
	key := appKey(st.Account, st.App)
	m.mu.Lock()
	defer m.mu.Unlock()
	var stored int64
	if cur, ok := m.apps[key]; ok {
		var v struct {
			Version int64 `json:"version"`
		}
		if err := json.Unmarshal(cur, &v); err != nil {
			return fmt.Errorf("memory store: decode version: %w", err)
		}
		stored = v.Version
	}
	if stored != st.Version {
		return fmt.Errorf("memory store: save %s/%s at version %d, stored %d: %w", st.Account, st.App, st.Version, stored, ErrConflict)
	}
	m.apps[key] = data
	if len(recs) > 0 {
		if m.records[key] == nil {
			m.records[key] = map[string][]byte{}
		}
		for k, b := range recs {
			m.records[key][k] = b
		}
	}
	st.Version = next.Version
	return nil
}

// History implements [Store].
func (m *MemoryStore) History(_ context.Context, account, app string, limit int) ([]DeployRecord, error) {
	m.mu.Lock()
	recs := m.records[appKey(account, app)]
	keys := make([]string, 0, len(recs))
	for k := range recs {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]DeployRecord, len(keys))
	var err error
	for i, k := range keys {
		if e := json.Unmarshal(recs[k], &out[i]); e != nil && err == nil {
			err = fmt.Errorf("memory store: decode record %s: %w", k, e)
		}
	}
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SeenEvent implements [Store].
func (m *MemoryStore) SeenEvent(_ context.Context, key string, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.events[key]
	return ok && now.Before(exp), nil
}

// MarkEvent implements [Store].
func (m *MemoryStore) MarkEvent(_ context.Context, key string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events[key] = expires
	return nil
}

// Apps lists the (account, app) pairs with saved state, sorted; for tests,
// the simulator and a dashboard.
func (m *MemoryStore) Apps() [][2]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][2]string, 0, len(m.apps))
	for k := range m.apps {
		var st struct {
			Account string `json:"account"`
			App     string `json:"app"`
		}
		_ = json.Unmarshal(m.apps[k], &st)
		out = append(out, [2]string{st.Account, st.App})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0]+"#"+out[i][1] < out[j][0]+"#"+out[j][1] })
	return out
}
