package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads the platform config at path (YAML, or JSON when the name ends
// in .json), fills in defaults and validates it. The error lists every
// problem found.
func Load(path string) (*Platform, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read platform config: %w", err)
	}
	p, err := Parse(data, strings.EqualFold(filepath.Ext(path), ".json"))
	if err != nil {
		return nil, fmt.Errorf("platform config %s: %w", path, err)
	}
	return p, nil
}

// Parse parses a platform config (JSON when isJSON, YAML otherwise), fills in
// defaults and validates it. Unknown fields, duplicate keys and values of the
// wrong type are errors. The error lists every problem found.
func Parse(data []byte, isJSON bool) (*Platform, error) {
	p, shape, err := decode(data, isJSON)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, shape
	}
	// The file parses (an unknown field or duplicate key does not stop
	// decoding): report its shape errors and every validation error
	// together, so one fix-and-rerun cycle sees them all.
	p.ApplyDefaults()
	if err := p.Validate(); err != nil {
		var verrs Errors
		if errors.As(err, &verrs) {
			shape = append(shape, verrs...)
		} else if len(shape) == 0 {
			return nil, err
		}
	}
	if len(shape) > 0 {
		return nil, shape
	}
	return p, nil
}

// Decode parses a platform config strictly, without defaults or
// validation.
func Decode(data []byte, isJSON bool) (*Platform, error) {
	p, shape, err := decode(data, isJSON)
	if err != nil {
		return nil, err
	}
	if len(shape) > 0 {
		return nil, shape
	}
	return p, nil
}

// decode parses a platform config. err is a syntax error; shape lists the
// fields of the wrong shape (unknown, duplicate, wrong type). p is the
// config decoded leniently (unknown fields ignored) when the only shape
// errors are unknown fields, nil otherwise.
func decode(data []byte, isJSON bool) (p *Platform, shape Errors, err error) {
	if isJSON {
		// encoding/json gives the better syntax errors for JSON; the
		// structure is then checked below (JSON is valid YAML).
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %w", err)
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, nil, errors.New("the config must be a JSON object")
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil, errors.New("the config is empty")
	}
	root := doc.Content[0]
	checkNode(root, reflect.TypeFor[Platform](), "", &shape)
	for _, fe := range shape {
		if !strings.HasPrefix(fe.Msg, "unknown field") {
			// A value of the wrong type: what it would decode to (if
			// anything) is not what the author meant; validating it would
			// only add confusing errors.
			return nil, shape, nil
		}
	}
	var pl Platform
	if err := root.Decode(&pl); err != nil {
		if len(shape) > 0 {
			return nil, shape, nil
		}
		// checkNode accepts only what Decode accepts; this is a safety net.
		return nil, nil, fmt.Errorf("decode config: %w", err)
	}
	return &pl, shape, nil
}

// checkNode checks that n has the shape of type t: mappings only with the
// fields t declares, sequences for slices, scalars that decode into t. Each
// problem is reported with its field path and line.
func checkNode(n *yaml.Node, t reflect.Type, path string, errs *Errors) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	at := path
	if at == "" {
		at = "(top level)"
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an explicit null leaves the default
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[Domain]() && n.Kind == yaml.ScalarNode {
		// A domain may be written as its name alone.
		checkNode(n, reflect.TypeFor[string](), path, errs)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			errs.add(at, "must be a mapping of fields, got %s (line %d)", kindName(n), n.Line)
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			fields[name] = f.Type
			names = append(names, name)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				errs.add(joinPath(path, k.Value), "unknown field (line %d); the fields allowed here are %s", k.Line, strings.Join(names, ", "))
				continue
			}
			checkNode(v, ft, joinPath(path, k.Value), errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			errs.add(at, "must be a list, got %s (line %d)", kindName(n), n.Line)
			return
		}
		for i, item := range n.Content {
			checkNode(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			errs.add(at, "must be a %s, got %s (line %d)", typeName(t), kindName(n), n.Line)
			return
		}
		if t.Kind() == reflect.String {
			// yaml.v3 turns an unquoted 123 or true into a string silently.
			// Plain digits (an account ID) are kept as written; anything
			// else that YAML reads as a non-string must be quoted, because
			// a value like 0123, 1e3 or yes would not mean what it says.
			if n.Tag != "!!str" && (n.Tag != "!!int" || strings.HasPrefix(n.Value, "0") || strings.ContainsAny(n.Value, "_+-xob")) {
				errs.add(at, "must be a string, got %s %s (line %d); quote it", strings.TrimPrefix(n.Tag, "!!"), n.Value, n.Line)
			}
			return
		}
		v := reflect.New(t)
		if err := n.Decode(v.Interface()); err != nil {
			errs.add(at, "must be a %s, got %q (line %d)", typeName(t), n.Value, n.Line)
		}
	}
}

func joinPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int:
		return "whole number"
	default:
		return t.Kind().String()
	}
}
