package provider

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
)

// InputError is a Go component's refusal of its input, with the Go field
// names replaced by the schema's (VpcID becomes vpcId, Ingress[0].CIDRIPv4
// becomes ingress[0].cidrIpv4): the error a caller in any language reads.
type InputError struct {
	Message string
	Err     error // the Go component's error
}

func (e *InputError) Error() string { return e.Message }

func (e *InputError) Unwrap() error { return e.Err }

var (
	quoted  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	goField = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)
)

// inputError renames the Go fields that err names after the inputs of
// args (a wrapper type), leaving quoted values alone.
func inputError(err error, args reflect.Type) error {
	names := schemaNames(args, map[string]string{}, map[reflect.Type]bool{})
	return &InputError{Message: renameOutsideQuotes(err.Error(), names), Err: err}
}

// renameOutsideQuotes renames the Go field names of msg (names) outside
// its quoted values.
func renameOutsideQuotes(msg string, names map[string]string) string {
	var b strings.Builder
	last := 0
	for _, q := range quoted.FindAllStringIndex(msg, -1) {
		b.WriteString(rename(msg[last:q[0]], names))
		b.WriteString(msg[q[0]:q[1]])
		last = q[1]
	}
	b.WriteString(rename(msg[last:], names))
	return b.String()
}

func rename(s string, names map[string]string) string {
	return goField.ReplaceAllStringFunc(s, func(w string) string {
		if n, ok := names[w]; ok {
			return n
		}
		return w
	})
}

// tagName is the input name of a field, if it is an input.
func tagName(f reflect.StructField) (string, bool) {
	tag, ok := f.Tag.Lookup("pulumi")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	return name, true
}

// schemaNames maps each Go field name reachable from t to its input name.
func schemaNames(t reflect.Type, out map[string]string, seen map[reflect.Type]bool) map[string]string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return out
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := tagName(f)
		if !ok {
			continue
		}
		out[f.Name] = name
		if f.Type.Kind() != reflect.Interface {
			schemaNames(f.Type, out, seen)
		}
	}
	return out
}

// IsInputError reports whether err is a component's refusal of its input.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
