package awsfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go/middleware"
	smithytime "github.com/aws/smithy-go/time"
)

// memberNamer returns the JSON member name of an SDK struct field.
type memberNamer func(owner reflect.Type, field string) string

// ecsMember names ECS members: the service's model spells every member in
// lower camel case, and the SDK's Go field is the member name with its first
// letter upper-cased.
func ecsMember(_ reflect.Type, field string) string { return lowerFirst(field) }

// ebCamelCase are the EventBridge shapes that copy ECS's and so spell their
// members in lower camel case (NetworkConfiguration's one member is
// awsvpcConfiguration); every other EventBridge member is spelled as its Go
// field. The pinned SDK's deserializers.go has the same exceptions, and
// TestEncodeAWSJSONRoundTrip fails without any of them.
var ebCamelCase = map[reflect.Type]bool{
	reflect.TypeFor[ebtypes.CapacityProviderStrategyItem](): true,
	reflect.TypeFor[ebtypes.NetworkConfiguration]():         true,
	reflect.TypeFor[ebtypes.PlacementConstraint]():          true,
	reflect.TypeFor[ebtypes.PlacementStrategy]():            true,
}

// eventBridgeMember names EventBridge members.
func eventBridgeMember(owner reflect.Type, field string) string {
	if ebCamelCase[owner] {
		return lowerFirst(field)
	}
	return field
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	metadataType = reflect.TypeFor[middleware.Metadata]()
)

// encodeAWSJSON writes an SDK output value as the awsJson 1.1 body that the
// SDK's generated deserializer reads: a structure is an object of its set
// members (nil pointers, slices and maps and empty enums are left out, as
// the service leaves out absent members), timestamps are epoch seconds with millisecond
// precision (awsJson's default timestamp format), blobs are base64, and
// enums are their string values. Union and document members are not served
// by the fake and are refused rather than guessed. The fake used the SDK's
// own schema serialiser until the service modules were pinned to releases
// without one (docs/performance.md, control plane cold start);
// TestEncodeAWSJSONRoundTrip checks this encoder against the pinned SDK's
// deserializer for every operation the fake serves.
func encodeAWSJSON(v any, name memberNamer) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeValue(&buf, reflect.ValueOf(v), name); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func encodeValue(buf *bytes.Buffer, v reflect.Value, name memberNamer) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encodeValue(buf, v.Elem(), name)
	case reflect.Struct:
		if v.Type() == timeType {
			buf.WriteString(strconv.FormatFloat(smithytime.FormatEpochSeconds(v.Interface().(time.Time)), 'f', -1, 64))
			return nil
		}
		buf.WriteByte('{')
		first := true
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type == metadataType {
				continue
			}
			fv := v.Field(i)
			switch fv.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
				if fv.IsNil() {
					continue
				}
			}
			if fv.Kind() == reflect.String && fv.Len() == 0 {
				continue // an unset enum: the service leaves it out
			}
			if fv.Kind() == reflect.Interface {
				return fmt.Errorf("%s.%s: union and document members are not encoded", t.Name(), f.Name)
			}
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeString(buf, name(t, f.Name))
			buf.WriteByte(':')
			if err := encodeValue(buf, fv, name); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
			}
		}
		buf.WriteByte('}')
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			writeString(buf, base64.StdEncoding.EncodeToString(v.Bytes()))
			return nil
		}
		buf.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, v.Index(i), name); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("map key %s is not a string", v.Type().Key())
		}
		buf.WriteByte('{')
		it := v.MapRange()
		first := true
		for it.Next() {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeString(buf, it.Key().String())
			buf.WriteByte(':')
			if err := encodeValue(buf, it.Value(), name); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case reflect.String:
		writeString(buf, v.String())
		return nil
	case reflect.Bool:
		buf.WriteString(strconv.FormatBool(v.Bool()))
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
		return nil
	case reflect.Float32, reflect.Float64:
		buf.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits()))
		return nil
	}
	return fmt.Errorf("cannot encode a %s", v.Type())
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always marshals
	buf.Write(b)
}
