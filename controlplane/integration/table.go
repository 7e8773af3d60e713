package integration

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wharf-paas/wharf/controlplane"
)

// CreateTable creates the control plane's table as the stack does: string
// partition and sort keys, on-demand billing, TTL on the TTL attribute.
func (e *Env) CreateTable(ctx context.Context, table string) error {
	_, err := e.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String(controlplane.DynamoPartitionKey), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String(controlplane.DynamoSortKey), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(controlplane.DynamoPartitionKey), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(controlplane.DynamoSortKey), KeyType: ddbtypes.KeyTypeRange},
		},
		BillingMode: ddbtypes.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	if _, err := e.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(controlplane.DynamoTTLAttribute), Enabled: aws.Bool(true),
		},
	}); err != nil {
		return fmt.Errorf("enable ttl on %s: %w", table, err)
	}
	return nil
}

// Store returns the DynamoDB store on table, through the env's admin
// client (so its calls are in Log).
func (e *Env) Store(table string) *controlplane.DynamoStore {
	return controlplane.NewDynamoStore(e.DynamoDB, table)
}
