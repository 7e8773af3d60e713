package iampolicy

import "encoding/json"

func jsonUnmarshal(s string, v interface{}) error { return json.Unmarshal([]byte(s), v) }
