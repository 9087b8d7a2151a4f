// Package strictjson decodes JSON the way a config file should be read: one value and nothing after
// it, no unknown keys, and keys spelled exactly. encoding/json alone accepts trailing data after the
// first value and matches keys case-insensitively, so a file holding "hidden": 64 and "HIDDEN": 4096
// silently became a model of hidden size 4096.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Unmarshal decodes b into v (a pointer), strictly.
func Unmarshal(b []byte, v any) error {
	if err := exactKeys(b, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value (one object per file)")
	}
	return nil
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// exactKeys walks the JSON value b alongside the Go type t and reports an object key that names no
// field exactly (encoding/json would match it case-insensitively or, for unknown keys, report it
// without its path).
func exactKeys(b []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		if reflect.PointerTo(t).Implements(unmarshaler) || t.Implements(unmarshaler) {
			return nil
		}
		t = t.Elem()
	}
	if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if b[0] != '{' {
			return nil // a type error, reported by the decoder
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil // reported by the decoder, with its offset
		}
		fields := jsonFields(t)
		for k, raw := range m {
			ft, ok := fields[k]
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, k) {
						return fmt.Errorf("key %q%s: keys are case-sensitive; did you mean %q?", k, at(path), name)
					}
				}
				return fmt.Errorf("unknown key %q%s", k, at(path))
			}
			if err := exactKeys(raw, ft, path+"."+k); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(b, &items) != nil {
			return nil
		}
		for i, it := range items {
			if err := exactKeys(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return nil
		}
		for k, raw := range m {
			if err := exactKeys(raw, t.Elem(), path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return " in " + strings.TrimPrefix(path, ".")
}

// jsonFields maps each JSON key of struct type t to its field's type, following encoding/json's
// naming (the tag's name, else the field name; "-" skips; embedded structs without a tag inline).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
