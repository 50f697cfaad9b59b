package store

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lmsshop/checkout/internal/checkout"
)

// A shop and all its catalogs live in one partition, so one Query loads what a step needs.
func shopPK(id string) string { return "SHOP#" + id }

type shopRecord struct {
	PK   string        `json:"pk"`
	SK   string        `json:"sk"`
	Shop checkout.Shop `json:"shop"`
}

type catalogRecord struct {
	PK        string             `json:"pk"`
	SK        string             `json:"sk"`
	ID        string             `json:"id"`
	Master    string             `json:"master,omitempty"`
	Countries []string           `json:"countries,omitempty"`
	Category  *checkout.Category `json:"category,omitempty"`
	Item      *checkout.Item     `json:"item,omitempty"`
	Password  string             `json:"password,omitempty"` // items' json hides it from buyers
}

// SaveShop writes a shop and its catalogs (seeding, back office).
func (st *Store) SaveShop(ctx context.Context, shop *checkout.Shop, catalogs []*checkout.Catalog) error {
	if err := shop.Validate(); err != nil {
		return err
	}
	var items []map[string]types.AttributeValue
	rec, err := marshal(shopRecord{PK: shopPK(shop.ID), SK: "CONFIG", Shop: *shop})
	if err != nil {
		return checkout.Wrap("store.saveShop", err)
	}
	items = append(items, rec)
	for _, cat := range catalogs {
		recs := []catalogRecord{{SK: "CATALOG#" + cat.ID + "#META", ID: cat.ID, Master: cat.Master, Countries: cat.Countries}}
		for i := range cat.Categories {
			recs = append(recs, catalogRecord{SK: "CATALOG#" + cat.ID + "#CAT#" + cat.Categories[i].Code, ID: cat.ID, Category: &cat.Categories[i]})
		}
		for i := range cat.Items {
			it := &cat.Items[i]
			if err := it.Validate(); err != nil {
				return err
			}
			recs = append(recs, catalogRecord{SK: "CATALOG#" + cat.ID + "#ITEM#" + it.Code, ID: cat.ID, Item: it, Password: it.Password})
		}
		for _, r := range recs {
			r.PK = shopPK(shop.ID)
			m, err := marshal(r)
			if err != nil {
				return checkout.Wrap("store.saveShop", err)
			}
			items = append(items, m)
		}
	}
	for len(items) > 0 {
		batch := items
		if len(batch) > 25 {
			batch = items[:25]
		}
		items = items[len(batch):]
		req := map[string][]types.WriteRequest{}
		for _, it := range batch {
			req[st.Table] = append(req[st.Table], types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		for len(req) > 0 {
			out, err := st.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return checkout.Wrap("store.saveShop", err)
			}
			req = out.UnprocessedItems
		}
	}
	return nil
}

// LoadShop reads a shop and the catalog it sells (a slave merged with its master) in
// one Query.
func (st *Store) LoadShop(ctx context.Context, shopID string) (*checkout.Shop, *checkout.Catalog, error) {
	const op = "store.loadShop"
	var shop *checkout.Shop
	cats := map[string]*checkout.Catalog{}
	catalog := func(id string) *checkout.Catalog {
		if cats[id] == nil {
			cats[id] = &checkout.Catalog{ID: id}
		}
		return cats[id]
	}
	in := &dynamodb.QueryInput{
		TableName: &st.Table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(shopPK(shopID))},
	}
	for item, err := range st.query(ctx, in) {
		if err != nil {
			return nil, nil, checkout.Wrap(op, err)
		}
		sk := item["sk"].(*types.AttributeValueMemberS).Value
		if sk == "CONFIG" {
			var r shopRecord
			if err := unmarshal(item, &r); err != nil {
				return nil, nil, checkout.Wrap(op, err)
			}
			shop = &r.Shop
			continue
		}
		var r catalogRecord
		if err := unmarshal(item, &r); err != nil {
			return nil, nil, checkout.Wrap(op, err)
		}
		c := catalog(r.ID)
		switch {
		case strings.HasSuffix(sk, "#META"):
			c.Master, c.Countries = r.Master, r.Countries
		case r.Category != nil:
			c.Categories = append(c.Categories, *r.Category)
		case r.Item != nil:
			r.Item.Password = r.Password
			c.Items = append(c.Items, *r.Item)
		}
	}
	if shop == nil {
		return nil, nil, checkout.Errorf(op, checkout.ENOTFOUND, "no shop %q", shopID)
	}
	cat, ok := cats[shop.CatalogID]
	if !ok {
		return nil, nil, checkout.Errorf(op, checkout.ENOTFOUND, "shop %s sells catalog %q, which does not exist", shopID, shop.CatalogID)
	}
	if cat.Master != "" {
		master, ok := cats[cat.Master]
		if !ok {
			return nil, nil, checkout.Errorf(op, checkout.ENOTFOUND, "catalog %s has no master %q", cat.ID, cat.Master)
		}
		cat = checkout.Merge(master, cat)
	} else {
		cat = checkout.Merge(&checkout.Catalog{}, cat)
	}
	return shop, cat, nil
}
