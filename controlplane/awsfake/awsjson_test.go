package awsfake

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go/middleware"
)

// TestEncodeAWSJSONRoundTrip fills every member of the output of each
// operation the fake serves (nested to a few levels), encodes it with
// encodeAWSJSON, lets the SDK's own client decode the body, and requires the
// decoded output to equal the value encoded: a member the encoder misnames
// or misformats comes back missing or different. The request is an empty
// input with the client's input validation removed: only the response
// matters here.
func TestEncodeAWSJSONRoundTrip(t *testing.T) {
	for _, svc := range []struct {
		name   string
		client func(url string) any
		serves func(op string) bool
		member memberNamer
	}{
		{"ecs", func(url string) any {
			return ecs.New(ecs.Options{Region: DefaultRegion, BaseEndpoint: aws.String(url), Credentials: aws.AnonymousCredentials{}, APIOptions: noValidation})
		}, func(op string) bool { return newECSInput(op) != nil }, ecsMember},
		{"eventbridge", func(url string) any {
			return eventbridge.New(eventbridge.Options{Region: DefaultRegion, BaseEndpoint: aws.String(url), Credentials: aws.AnonymousCredentials{}, APIOptions: noValidation})
		}, func(op string) bool { return newEventBridgeInput(op) != nil }, eventBridgeMember},
	} {
		var body []byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_, _ = w.Write(body)
		}))
		client := reflect.ValueOf(svc.client(srv.URL))
		tested := 0
		for i := range client.NumMethod() {
			op := client.Type().Method(i).Name
			if !svc.serves(op) {
				continue
			}
			tested++
			t.Run(svc.name+"/"+op, func(t *testing.T) {
				m := client.Method(i)
				in := reflect.New(m.Type().In(1).Elem())
				want := reflect.New(m.Type().Out(0).Elem())
				fill(want.Elem(), 0, new(int))
				b, err := encodeAWSJSON(want.Interface(), svc.member)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				body = b
				res := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
				if err, _ := res[1].Interface().(error); err != nil {
					t.Fatalf("the SDK client rejected the call or the body: %v\nbody: %s", err, b)
				}
				got := res[0].Elem()
				got.FieldByName("ResultMetadata").SetZero()
				if !reflect.DeepEqual(got.Interface(), want.Elem().Interface()) {
					t.Errorf("decoded output differs from the encoded one\n got: %+v\nwant: %+v\nbody: %s", got.Interface(), want.Elem().Interface(), b)
				}
			})
		}
		srv.Close()
		if tested == 0 {
			t.Errorf("%s: no served operation found among the client's methods", svc.name)
		}
	}
}

// noValidation removes the client's input validation from every operation
// (operations without a required member have none to remove).
var noValidation = []func(*middleware.Stack) error{func(s *middleware.Stack) error {
	_, _ = s.Initialize.Remove("OperationInputValidation")
	return nil
}}

// fill sets every exported member of v to a distinct non-zero value,
// following pointers, lists and maps up to 12 levels deep (deeper than any
// shape the fake serves; neither service's model is recursive) and leaving
// union and document members (interfaces) unset.
func fill(v reflect.Value, depth int, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 12 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1, n)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Unix(1_700_000_000+int64(*n), 123_000_000).UTC()))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Type != metadataType {
				fill(v.Field(i), depth, n)
			}
		}
	case reflect.Slice:
		if depth > 12 {
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes(fmt.Appendf(nil, "blob%d", *n))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1, n)
	case reflect.Map:
		if depth > 12 {
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, depth+1, n)
		v.SetMapIndex(reflect.ValueOf(fmt.Sprintf("k%d", *n)).Convert(v.Type().Key()), e)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	}
}
