package bench

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strings"
	"sync"
)

// ItemModel computes the write units of DynamoDB calls from the sizes of the items they
// write, by AWS's published rules, beside DynamoDB Local's own figure:
//
//   - one write unit per KB (1,024 bytes) of the item written, rounded up per item, the
//     item's size being the larger of its size before and after the write (a delete:
//     the item deleted); a conditional write whose condition fails still costs the
//     units of the item as it is;
//   - an item's size is the sum of its attributes' names and values (strings and
//     binaries their bytes, numbers about one byte per two digits plus one, lists and
//     maps 3 bytes plus their elements and one byte each, booleans and nulls one);
//   - TransactWriteItems costs twice the units of each item it writes (or checks);
//   - ReturnValues costs nothing;
//   - each global secondary index whose keys the item has costs the units of the index
//     entry: a put where the item enters the index, a delete where it leaves it, both
//     where its index keys change, and an update where they stay but a projected
//     attribute changes (with projection ALL, any change; with INCLUDE, a change of one
//     of its NonKeyAttributes; with KEYS_ONLY, none), the entry being the item's keys
//     and the attributes the index projects.
//
// It learns the items' sizes from the traffic itself (items put, returned by reads and
// by ReturnValues); an update that returns nothing is modelled as the item it last saw
// with the update's SET values and REMOVEs applied (nested paths add their values' size).
type ItemModel struct {
	mu      sync.Mutex
	hash    string
	rng     string
	indexes []ModelIndex
	items   map[string]attrs
}

// ModelIndex is a global secondary index as the model sees it.
type ModelIndex struct {
	Name, Hash, Range string
	// All: projection ALL; otherwise the keys and Include (INCLUDE's NonKeyAttributes;
	// none: KEYS_ONLY).
	All     bool
	Include []string
}

type attrs map[string]json.RawMessage

// NewItemModel models a table keyed by hash (and rng) with indexes.
func NewItemModel(hash, rng string, indexes []ModelIndex) *ItemModel {
	return &ItemModel{hash: hash, rng: rng, indexes: indexes, items: map[string]attrs{}}
}

// WriteUnits returns the modelled write units of one call (0 for reads, which teach
// the model the items they return).
func (m *ItemModel) WriteUnits(op string, req, resp []byte) float64 {
	total := 0.0
	for _, w := range m.Writes(op, req, resp) {
		total += w.Units
	}
	return total
}

// ItemWrite is the part of one call's write units that one item costs: Op is the call
// ("TransactWriteItems" items as "TransactWriteItems/Put" and so on), Item the item's
// key shape (KeyShape), Units its units, its indexes' included and a transaction's
// doubling applied, and Size the item's size in bytes in the table (the larger of its
// sizes before and after the write): what tells how far an item is from the next unit.
type ItemWrite struct {
	Op, Item string
	Units    float64
	Size     int
}

// Label names the write in a breakdown: "UpdateItem TX ORDER".
func (w ItemWrite) Label() string { return w.Op + " " + w.Item }

// Writes returns the write units of one call item by item (none for reads, which teach
// the model the items they return): what a breakdown per operation and key needs.
func (m *ItemModel) Writes(op string, req, resp []byte) []ItemWrite {
	m.mu.Lock()
	defer m.mu.Unlock()
	var in map[string]json.RawMessage
	if json.Unmarshal(req, &in) != nil {
		return nil
	}
	var out map[string]json.RawMessage
	_ = json.Unmarshal(resp, &out)
	failed := out["__type"] != nil
	switch op {
	case "GetItem":
		m.learn(out["Item"], in["ProjectionExpression"] == nil)
	case "Query", "Scan":
		var items []json.RawMessage
		_ = json.Unmarshal(out["Items"], &items)
		for _, it := range items {
			m.learn(it, in["ProjectionExpression"] == nil && in["IndexName"] == nil)
		}
	case "PutItem", "UpdateItem", "DeleteItem":
		n, item, size := m.write(op, in, out, failed)
		return []ItemWrite{{Op: op, Item: item, Units: float64(n), Size: size}}
	case "TransactWriteItems":
		if failed {
			return nil
		}
		var items []map[string]map[string]json.RawMessage
		_ = json.Unmarshal(in["TransactItems"], &items)
		var ws []ItemWrite
		for _, ti := range items {
			for kind, body := range ti {
				op := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheck"}[kind]
				n, item, size := m.write(op, body, nil, false)
				ws = append(ws, ItemWrite{Op: "TransactWriteItems/" + kind, Item: item, Units: float64(2 * n), Size: size})
			}
		}
		return ws
	case "BatchWriteItem":
		var reqs map[string][]map[string]map[string]json.RawMessage
		_ = json.Unmarshal(in["RequestItems"], &reqs)
		var ws []ItemWrite
		for _, list := range reqs {
			for _, r := range list {
				if p, ok := r["PutRequest"]; ok {
					n, item, size := m.write("PutItem", p, nil, false)
					ws = append(ws, ItemWrite{Op: "BatchWriteItem/Put", Item: item, Units: float64(n), Size: size})
				}
				if d, ok := r["DeleteRequest"]; ok {
					n, item, size := m.write("DeleteItem", d, nil, false)
					ws = append(ws, ItemWrite{Op: "BatchWriteItem/Delete", Item: item, Units: float64(n), Size: size})
				}
			}
		}
		return ws
	}
	return nil
}

func (m *ItemModel) learn(raw json.RawMessage, whole bool) {
	if len(raw) == 0 || !whole {
		return
	}
	var it attrs
	if json.Unmarshal(raw, &it) == nil {
		if k := m.key(it); k != "" {
			m.items[k] = it
		}
	}
}

func (m *ItemModel) key(it attrs) string {
	h, ok := it[m.hash]
	if !ok {
		return ""
	}
	return string(h) + "|" + string(it[m.rng])
}

// write models one item's write and returns its units (table and indexes), the item's
// key shape and its size in the table (the larger of before and after).
func (m *ItemModel) write(op string, in map[string]json.RawMessage, out map[string]json.RawMessage, failed bool) (int, string, int) {
	var keyAttrs attrs
	if op == "PutItem" {
		_ = json.Unmarshal(in["Item"], &keyAttrs)
	} else {
		_ = json.Unmarshal(in["Key"], &keyAttrs)
	}
	k := m.key(keyAttrs)
	shape := KeyShape(stringAttr(keyAttrs[m.hash]), stringAttr(keyAttrs[m.rng]))
	old := m.items[k]
	if failed || op == "ConditionCheck" {
		return units(itemSize(old)), shape, itemSize(old)
	}
	var now attrs
	switch op {
	case "PutItem":
		now = keyAttrs
	case "UpdateItem":
		if len(out["Attributes"]) > 0 && strings.Contains(string(in["ReturnValues"]), "ALL_NEW") {
			_ = json.Unmarshal(out["Attributes"], &now)
		} else {
			now = applyUpdate(old, keyAttrs, in)
		}
	case "DeleteItem":
		now = nil
	}
	if now == nil {
		delete(m.items, k)
	} else {
		m.items[k] = now
	}
	size := max(itemSize(old), itemSize(now))
	n := units(size)
	for _, ix := range m.indexes {
		n += m.indexUnits(ix, old, now)
	}
	return n, shape, size
}

// KeyShape is an item's key with its variable parts left out, so that a breakdown
// groups the same kind of item of every order: the partition key's first segment and
// the sort key's leading segments in capitals ("TX#AB12…", "PRODUCED#L1#0#post" →
// "TX PRODUCED"; "ORDER#BODY" stays whole).
func KeyShape(pk, sk string) string {
	first, _, _ := strings.Cut(pk, "#")
	var kept []string
	for _, seg := range strings.Split(sk, "#") {
		if seg == "" || strings.IndexFunc(seg, func(r rune) bool { return (r < 'A' || r > 'Z') && r != '_' }) >= 0 {
			break
		}
		kept = append(kept, seg)
	}
	return strings.TrimSpace(first + " " + strings.Join(kept, "#"))
}

// stringAttr is the string of an S attribute value ("" otherwise).
func stringAttr(raw json.RawMessage) string {
	var v struct{ S string }
	_ = json.Unmarshal(raw, &v)
	return v.S
}

func (m *ItemModel) indexUnits(ix ModelIndex, old, now attrs) int {
	in := func(it attrs) bool {
		if it == nil || it[ix.Hash] == nil {
			return false
		}
		return ix.Range == "" || it[ix.Range] != nil
	}
	entry := func(it attrs) int {
		if ix.All {
			return itemSize(it)
		}
		return itemSize(m.projected(ix, it))
	}
	oldIn, nowIn := in(old), in(now)
	switch {
	case !oldIn && !nowIn:
		return 0
	case oldIn && nowIn && string(old[ix.Hash]) == string(now[ix.Hash]) && string(old[ix.Range]) == string(now[ix.Range]):
		if !ix.All && !changed(m.projected(ix, old), m.projected(ix, now)) {
			return 0 // nothing the index projects changed
		}
		return units(max(entry(old), entry(now)))
	}
	n := 0
	if oldIn {
		n += units(entry(old))
	}
	if nowIn {
		n += units(entry(now))
	}
	return n
}

// projected is the part of it an index that does not project ALL holds: the table's
// and the index's keys, and its INCLUDE attributes.
func (m *ItemModel) projected(ix ModelIndex, it attrs) attrs {
	out := attrs{}
	for _, a := range append([]string{m.hash, m.rng, ix.Hash, ix.Range}, ix.Include...) {
		if v, ok := it[a]; ok && a != "" {
			out[a] = v
		}
	}
	return out
}

// changed reports whether two projections differ in any attribute.
func changed(a, b attrs) bool {
	if len(a) != len(b) {
		return true
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !sameValue(v, w) {
			return true
		}
	}
	return false
}

// sameValue compares two attribute values in JSON whatever their encoding's key order.
func sameValue(a, b json.RawMessage) bool {
	if string(a) == string(b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

var (
	setClause    = regexp.MustCompile(`(?i)\bSET\s+(.*?)(\s+(REMOVE|ADD|DELETE)\s+|$)`)
	removeClause = regexp.MustCompile(`(?i)\bREMOVE\s+(.*?)(\s+(SET|ADD|DELETE)\s+|$)`)
	assignment   = regexp.MustCompile(`^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$`)
)

// applyUpdate models an update the answer did not return: top-level SET name = :value
// assignments and REMOVEs applied; any other clause (nested paths, functions, ADD)
// adds the size of its values to an attribute of its own, an upper bound.
func applyUpdate(old, key attrs, in map[string]json.RawMessage) attrs {
	now := attrs{}
	for k, v := range old {
		now[k] = v
	}
	for k, v := range key {
		now[k] = v
	}
	var expr string
	_ = json.Unmarshal(in["UpdateExpression"], &expr)
	var names map[string]string
	_ = json.Unmarshal(in["ExpressionAttributeNames"], &names)
	var values map[string]json.RawMessage
	_ = json.Unmarshal(in["ExpressionAttributeValues"], &values)
	name := func(n string) string {
		if r, ok := names[n]; ok {
			return r
		}
		return n
	}
	used := map[string]bool{}
	if m := setClause.FindStringSubmatch(expr); m != nil {
		for _, part := range splitTop(m[1]) {
			if a := assignment.FindStringSubmatch(part); a != nil {
				now[name(a[1])] = values[a[2]]
				used[a[2]] = true
			}
		}
	}
	if m := removeClause.FindStringSubmatch(expr); m != nil {
		for _, part := range splitTop(m[1]) {
			if p := strings.TrimSpace(part); !strings.ContainsAny(p, ".[") {
				delete(now, name(p))
			}
		}
	}
	extra := 0
	for k, v := range values {
		if !used[k] && strings.Contains(expr, k) {
			extra += valueSize(v)
		}
	}
	if extra > 0 {
		now["\x00extra"] = json.RawMessage(`{"B":"` + base64.StdEncoding.EncodeToString(make([]byte, extra)) + `"}`)
	}
	return now
}

// splitTop splits a clause on the commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func units(size int) int {
	if size <= 0 {
		return 1 // a write costs at least one unit
	}
	return int(math.Ceil(float64(size) / 1024))
}

func itemSize(it attrs) int {
	n := 0
	for name, v := range it {
		if name == "\x00extra" {
			n += valueSize(v)
			continue
		}
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize is an attribute value's size by DynamoDB's rules.
func valueSize(raw json.RawMessage) int {
	var v map[string]json.RawMessage
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	for t, x := range v {
		switch t {
		case "S":
			var s string
			_ = json.Unmarshal(x, &s)
			return len(s)
		case "N":
			var s string
			_ = json.Unmarshal(x, &s)
			return numberSize(s)
		case "B":
			var b []byte
			_ = json.Unmarshal(x, &b)
			return len(b)
		case "BOOL", "NULL":
			return 1
		case "SS", "BS":
			var l []string
			_ = json.Unmarshal(x, &l)
			n := 0
			for _, s := range l {
				n += len(s)
			}
			if t == "BS" {
				n = n * 3 / 4
			}
			return n
		case "NS":
			var l []string
			_ = json.Unmarshal(x, &l)
			n := 0
			for _, s := range l {
				n += numberSize(s)
			}
			return n
		case "L":
			var l []json.RawMessage
			_ = json.Unmarshal(x, &l)
			n := 3
			for _, e := range l {
				n += valueSize(e) + 1
			}
			return n
		case "M":
			var mm map[string]json.RawMessage
			_ = json.Unmarshal(x, &mm)
			n := 3
			for k, e := range mm {
				n += len(k) + valueSize(e) + 1
			}
			return n
		}
	}
	return 0
}

// numberSize: about one byte per two significant digits, plus one.
func numberSize(s string) int {
	digits := strings.Trim(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(s), "0"), "0")
	return (len(digits)+1)/2 + 1
}
