package demo

import (
	"bytes"
	"encoding/json"
)

// obj is a JSON object that keeps its keys in insertion order, so the artifacts list
// fields in the order dbt writes them and column maps keep their declared order.
type obj struct {
	keys []string
	vals map[string]any
}

func newObj() *obj { return &obj{vals: map[string]any{}} }

// set adds or replaces key; a new key goes last.
func (o *obj) set(key string, v any) *obj {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
	return o
}

func (o *obj) get(key string) (any, bool) {
	v, ok := o.vals[key]
	return v, ok
}

func (o *obj) len() int { return len(o.keys) }

// o builds an obj from alternating keys and values.
func o(kv ...any) *obj {
	r := newObj()
	for i := 0; i+1 < len(kv); i += 2 {
		r.set(kv[i].(string), kv[i+1])
	}
	return r
}

func (o *obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes without HTML escaping: compiled SQL is full of < and >.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// encodeFile renders an artifact: two-space indentation (diffs well in git), a final newline.
func encodeFile(v any) ([]byte, error) {
	raw, err := marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
