package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wharf-paas/wharf/contract"
)

// DynamoDBAPI is the subset of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// The DynamoDB table layout, which the control plane stack must create:
// a string partition key "pk", a string sort key "sk", TTL on "ttl".
//
//	pk                    sk                         item
//	APP#<account>#<app>   STATE                      app state: version, phase, build, reason, data (JSON)
//	APP#<account>#<app>   DEPLOY#<build>[#config#n]  deploy record: build, outcome, reason, data (JSON)
//	EVENT#<account>/<id>  EVENT                      processed event: ttl (epoch seconds)
const (
	DynamoPartitionKey = contract.StateTablePartitionKey
	DynamoSortKey      = contract.StateTableSortKey
	DynamoTTLAttribute = contract.StateTableTTLAttribute
)

const (
	skState      = "STATE"
	skDeployPref = "DEPLOY#"
	skEvent      = "EVENT"
)

// DynamoStore is the DynamoDB [Store]: one table holding app state (with a
// version attribute updated by conditional writes), the deploy history and
// processed event IDs with a TTL.
type DynamoStore struct {
	client DynamoDBAPI
	table  string
}

// NewDynamoStore returns a store on table.
func NewDynamoStore(client DynamoDBAPI, table string) *DynamoStore {
	return &DynamoStore{client: client, table: table}
}

func appPK(account, app string) string { return "APP#" + account + "#" + app }

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func getS(item map[string]ddbtypes.AttributeValue, k string) string {
	if v, ok := item[k].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]ddbtypes.AttributeValue, k string) (int64, bool) {
	if v, ok := item[k].(*ddbtypes.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// LoadApp implements [Store] with a strongly consistent read.
func (d *DynamoStore) LoadApp(ctx context.Context, account, app string) (*AppState, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            map[string]ddbtypes.AttributeValue{DynamoPartitionKey: str(appPK(account, app)), DynamoSortKey: str(skState)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamo store: load %s/%s: %w", account, app, err)
	}
	if len(out.Item) == 0 {
		return &AppState{Account: account, App: app}, nil
	}
	var st AppState
	if err := json.Unmarshal([]byte(getS(out.Item, "data")), &st); err != nil {
		return nil, fmt.Errorf("dynamo store: decode state of %s/%s: %w", account, app, err)
	}
	v, ok := getN(out.Item, "version")
	if !ok {
		return nil, fmt.Errorf("dynamo store: state of %s/%s has no numeric version", account, app)
	}
	st.Version = v
	return &st, nil
}

// SaveApp implements [Store]: a conditional PutItem on the version, or a
// TransactWriteItems of that put and the deploy records.
func (d *DynamoStore) SaveApp(ctx context.Context, st *AppState, records ...*DeployRecord) error {
	next := *st
	next.Version = st.Version + 1
	data, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("dynamo store: encode state: %w", err)
	}
	pk := appPK(st.Account, st.App)
	item := map[string]ddbtypes.AttributeValue{
		DynamoPartitionKey: str(pk), DynamoSortKey: str(skState),
		"version": num(next.Version), "data": str(string(data)),
		"phase": str(string(st.Phase)), "build": num(st.Build), "reason": str(string(st.Reason)),
		"updatedAt": str(st.UpdatedAt.UTC().Format(time.RFC3339Nano)),
	}
	cond := "attribute_not_exists(#pk)"
	names := map[string]string{"#pk": DynamoPartitionKey}
	var values map[string]ddbtypes.AttributeValue
	if st.Version > 0 {
		cond = "#v = :v"
		names = map[string]string{"#v": "version"}
		values = map[string]ddbtypes.AttributeValue{":v": num(st.Version)}
	}
	if len(records) == 0 {
		_, err = d.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(d.table), Item: item, ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
	} else {
		items := []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{
			TableName: aws.String(d.table), Item: item, ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		}}}
		// A transaction may touch an item once: the last record of a key
		// wins, as in the memory store.
		last := map[string]int{}
		for i, r := range records {
			last[r.Key()] = i
		}
		for i, r := range records {
			if last[r.Key()] != i {
				continue
			}
			b, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("dynamo store: encode record: %w", err)
			}
			items = append(items, ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{
				TableName: aws.String(d.table),
				Item: map[string]ddbtypes.AttributeValue{
					DynamoPartitionKey: str(pk), DynamoSortKey: str(skDeployPref + r.Key()),
					"build": num(r.Build), "outcome": str(string(r.Outcome)), "reason": str(string(r.Reason)),
					"data": str(string(b)),
				},
			}})
		}
		_, err = d.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	}
	if err != nil {
		if isConditionFailure(err) {
			return fmt.Errorf("dynamo store: save %s/%s at version %d: %w", st.Account, st.App, st.Version, ErrConflict)
		}
		return fmt.Errorf("dynamo store: save %s/%s: %w", st.Account, st.App, err)
	}
	st.Version = next.Version
	return nil
}

func isConditionFailure(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var tce *ddbtypes.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return true
			}
		}
	}
	return false
}

// History implements [Store] with a descending Query on the app's deploy
// records.
func (d *DynamoStore) History(ctx context.Context, account, app string, limit int) ([]DeployRecord, error) {
	var out []DeployRecord
	var start map[string]ddbtypes.AttributeValue
	for {
		in := &dynamodb.QueryInput{
			TableName:                aws.String(d.table),
			KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
			ExpressionAttributeNames: map[string]string{"#pk": DynamoPartitionKey, "#sk": DynamoSortKey},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":pk": str(appPK(account, app)), ":p": str(skDeployPref),
			},
			ScanIndexForward:  aws.Bool(false),
			ExclusiveStartKey: start,
		}
		if limit > 0 {
			in.Limit = aws.Int32(int32(limit - len(out)))
		}
		res, err := d.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo store: history of %s/%s: %w", account, app, err)
		}
		for _, item := range res.Items {
			var r DeployRecord
			if err := json.Unmarshal([]byte(getS(item, "data")), &r); err != nil {
				return nil, fmt.Errorf("dynamo store: decode record %s: %w", getS(item, DynamoSortKey), err)
			}
			out = append(out, r)
		}
		if len(res.LastEvaluatedKey) == 0 || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// SeenEvent implements [Store]. DynamoDB deletes expired items lazily, so
// the ttl attribute is compared with now as well.
func (d *DynamoStore) SeenEvent(ctx context.Context, key string, now time.Time) (bool, error) {
	out, err := d.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(d.table),
		Key:            map[string]ddbtypes.AttributeValue{DynamoPartitionKey: str("EVENT#" + key), DynamoSortKey: str(skEvent)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("dynamo store: read event %s: %w", key, err)
	}
	if len(out.Item) == 0 {
		return false, nil
	}
	ttl, ok := getN(out.Item, DynamoTTLAttribute)
	return ok && ttl > now.Unix(), nil
}

// MarkEvent implements [Store]; the item carries the TTL attribute.
func (d *DynamoStore) MarkEvent(ctx context.Context, key string, expires time.Time) error {
	_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]ddbtypes.AttributeValue{
			DynamoPartitionKey: str("EVENT#" + key), DynamoSortKey: str(skEvent),
			DynamoTTLAttribute: num(expires.Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamo store: mark event %s: %w", key, err)
	}
	return nil
}
