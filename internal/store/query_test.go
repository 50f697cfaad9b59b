package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/store"
)

// The store's one query loop reads every page of a key range, and a reader that stops
// early stops it: items spread over pages of two come back all, in key order.
func TestQueryReadsEveryPage(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.Table, Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "PAGING"}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("ITEM#%d", i)},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	in := func() *dynamodb.QueryInput {
		return &dynamodb.QueryInput{TableName: &st.Table, Limit: aws.Int32(2), KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "PAGING"}}}
	}
	tests := []struct {
		name  string
		stop  int // stop after this many items; 0 reads to the end
		wants []string
	}{
		{"to the end", 0, []string{"ITEM#0", "ITEM#1", "ITEM#2", "ITEM#3", "ITEM#4"}},
		{"stopped in the second page", 3, []string{"ITEM#0", "ITEM#1", "ITEM#2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for item, err := range store.Query(st, ctx, in()) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, item["sk"].(*types.AttributeValueMemberS).Value)
				if len(got) == tt.stop {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wants) {
				t.Errorf("items %v, want %v", got, tt.wants)
			}
		})
	}
}
