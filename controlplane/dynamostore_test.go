package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sivchari/kumo"
)

var kumoTables int

// newKumoTable starts kumo in-process and creates a table with the layout
// NewDynamoStore documents (pk, sk, TTL on ttl).
func newKumoTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	srv := kumo.NewServer()
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{
		Region:                          "eu-west-1",
		Credentials:                     credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:                    aws.String(srv.URL),
		Retryer:                         aws.NopRetryer{},
		DisableValidateResponseChecksum: true,
	})
	// kumo keeps tables process-wide, so every test gets its own.
	kumoTables++
	table := fmt.Sprintf("wharf-controlplane-state-%d", kumoTables)
	ctx := context.Background()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(DynamoPartitionKey), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(DynamoSortKey), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(DynamoPartitionKey), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(DynamoSortKey), KeyType: ddbtypes.KeyTypeRange},
		},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatalf("kumo CreateTable: %v", err)
	}
	if _, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(table),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(DynamoTTLAttribute), Enabled: aws.Bool(true)},
	}); err != nil {
		t.Fatalf("kumo UpdateTimeToLive: %v", err)
	}
	return client, table
}

func TestDynamoStoreAgainstKumo(t *testing.T) {
	client, table := newKumoTable(t)
	s := NewDynamoStore(client, table)
	ctx := context.Background()
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

	st, err := s.LoadApp(ctx, twAccount, "api")
	if err != nil || st.Version != 0 || st.Phase != PhaseNone || st.App != "api" {
		t.Fatalf("new app = %+v, %v", st, err)
	}
	st.Phase, st.Build, st.UpdatedAt = PhaseBuilding, 1, now
	if err := s.SaveApp(ctx, st); err != nil {
		t.Fatalf("first save: %v", err)
	}
	if st.Version != 1 {
		t.Fatalf("version after save = %d", st.Version)
	}
	// A stale writer (still at version 0) conflicts, on both write paths.
	stale := &AppState{Account: twAccount, App: "api", Phase: PhaseFailed}
	if err := s.SaveApp(ctx, stale); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale PutItem: %v, want ErrConflict", err)
	}
	rec := &DeployRecord{Account: twAccount, App: "api", Build: 1, Kind: OpBuild, Outcome: OutcomeFailed}
	if err := s.SaveApp(ctx, stale, rec); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale transaction: %v, want ErrConflict", err)
	}
	if hist, _ := s.History(ctx, twAccount, "api", 0); len(hist) != 0 {
		t.Fatalf("a conflicting transaction wrote its record: %+v", hist)
	}
	got, err := s.LoadApp(ctx, twAccount, "api")
	if err != nil || got.Version != 1 || got.Phase != PhaseBuilding || got.Build != 1 {
		t.Fatalf("after conflicts = %+v, %v", got, err)
	}

	// History: records written atomically with the state, newest first,
	// upserted by key, config restarts sorted after their build.
	for _, r := range []*DeployRecord{
		{Account: twAccount, App: "api", Build: 9, Kind: OpBuild, Outcome: OutcomeDeployed},
		{Account: twAccount, App: "api", Build: 10, Kind: OpBuild, Outcome: OutcomePending, Phases: []PhaseRecord{{Name: "register", Start: now}}},
		{Account: twAccount, App: "api", Build: 9, Kind: OpConfig, Seq: 1, Outcome: OutcomeDeployed},
		{Account: twAccount, App: "api", Build: 100, Kind: OpBuild, Outcome: OutcomeSkipped, Reason: ReasonSuperseded},
	} {
		if err := s.SaveApp(ctx, got, r); err != nil {
			t.Fatalf("save with record: %v", err)
		}
	}
	done := &DeployRecord{Account: twAccount, App: "api", Build: 10, Kind: OpBuild, Outcome: OutcomeDeployed, ReleaseTask: "arn:task"}
	if err := s.SaveApp(ctx, got, done); err != nil {
		t.Fatal(err)
	}
	if got.Version != 6 {
		t.Fatalf("version = %d, want 6", got.Version)
	}
	hist, err := s.History(ctx, twAccount, "api", 0)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range hist {
		order = append(order, fmt.Sprintf("%d/%d/%s", r.Build, r.Seq, r.Outcome))
	}
	want := []string{"100/0/skipped", "10/0/deployed", "9/1/deployed", "9/0/deployed"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("history = %v, want %v", order, want)
	}
	if hist[1].ReleaseTask != "arn:task" {
		t.Errorf("record not upserted: %+v", hist[1])
	}
	if top, _ := s.History(ctx, twAccount, "api", 2); len(top) != 2 || top[0].Build != 100 {
		t.Errorf("limited history = %+v", top)
	}
	if other, _ := s.History(ctx, twAccount, "other", 0); len(other) != 0 {
		t.Errorf("history leaks across apps")
	}

	// Processed events carry the TTL attribute and expire.
	if err := s.MarkEvent(ctx, "111122223333/evt-1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	item, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
		DynamoPartitionKey: str("EVENT#111122223333/evt-1"), DynamoSortKey: str(skEvent)}})
	if err != nil {
		t.Fatal(err)
	}
	if ttl, ok := getN(item.Item, DynamoTTLAttribute); !ok || ttl != now.Add(time.Hour).Unix() {
		t.Fatalf("ttl attribute = %v", item.Item[DynamoTTLAttribute])
	}
	for _, c := range []struct {
		at   time.Time
		key  string
		seen bool
	}{
		{now, "111122223333/evt-1", true},
		{now.Add(2 * time.Hour), "111122223333/evt-1", false}, // expired, not yet reaped
		{now, "111122223333/evt-2", false},
	} {
		if seen, err := s.SeenEvent(ctx, c.key, c.at); err != nil || seen != c.seen {
			t.Errorf("SeenEvent(%s at %s) = %v, %v", c.key, c.at, seen, err)
		}
	}
}

func TestDynamoStoreConcurrentWritersOneWins(t *testing.T) {
	client, table := newKumoTable(t)
	s := NewDynamoStore(client, table)
	ctx := context.Background()
	base, _ := s.LoadApp(ctx, twAccount, "api")
	if err := s.SaveApp(ctx, base); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := *base
			st.Detail = fmt.Sprint(i)
			var recs []*DeployRecord
			if i%2 == 0 {
				recs = append(recs, &DeployRecord{Account: twAccount, App: "api", Build: int64(i + 1), Kind: OpBuild})
			}
			err := s.SaveApp(ctx, &st, recs...)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrConflict):
				conflicts++
			default:
				t.Errorf("save: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Fatalf("wins %d conflicts %d, want 1 and 7", wins, conflicts)
	}
}

// TestDeployThroughDynamoStore runs the whole lifecycle, with a conflict,
// on the DynamoDB store.
func TestDeployThroughDynamoStore(t *testing.T) {
	client, table := newKumoTable(t)
	cs := &dynConflict{DynamoStore: NewDynamoStore(client, table), at: 3}
	h := newHarness(t, cs, nil)
	h.deployBuild(1, twMeta("api", 1, "bin/migrate", "web", "worker"))
	h.deployBuild(2, twMeta("api", 2, "bin/migrate", "web"))
	if h.cp.Stats()[CountConflict] != 1 {
		t.Fatalf("stats = %v, want one conflict", h.cp.Stats())
	}
	hist, err := cs.History(context.Background(), twAccount, "api", 0)
	if err != nil || len(hist) != 2 || hist[0].Outcome != OutcomeDeployed || len(hist[0].Phases) != 4 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if n := len(h.w.releaseTasks()); n != 2 {
		t.Fatalf("%d release tasks, want 2", n)
	}
}

// dynConflict makes a concurrent write land before the at-th save.
type dynConflict struct {
	*DynamoStore
	n, at int
}

func (d *dynConflict) SaveApp(ctx context.Context, st *AppState, recs ...*DeployRecord) error {
	d.n++
	if d.n == d.at {
		cur, err := d.DynamoStore.LoadApp(ctx, st.Account, st.App)
		if err != nil {
			return err
		}
		if err := d.DynamoStore.SaveApp(ctx, cur); err != nil {
			return err
		}
	}
	return d.DynamoStore.SaveApp(ctx, st, recs...)
}
