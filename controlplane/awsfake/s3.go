package awsfake

import (
	"github.com/wharf-paas/wharf/controlplane/internal/awsmodel"

	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type object struct {
	body     []byte
	modified time.Time
	etag     string
}

// PutObject stores an object, readable with GetObject (path-style:
// GET /<bucket>/<key>). Putting into a new bucket creates the bucket.
func (s *Server) PutObject(bucket, key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects[bucket] == nil {
		s.objects[bucket] = map[string]object{}
	}
	sum := md5.Sum(body)
	s.objects[bucket][key] = object{body: append([]byte(nil), body...), modified: s.now().UTC(), etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

// CreateBucket makes an empty bucket (GetObject on a missing key then
// returns NoSuchKey rather than NoSuchBucket).
func (s *Server) CreateBucket(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects[bucket] == nil {
		s.objects[bucket] = map[string]object{}
	}
}

// DeleteObject removes an object.
func (s *Server) DeleteObject(bucket, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects[bucket], key)
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s.runHook("GetObject")
	s.mu.Lock()
	defer s.mu.Unlock()
	reqID := strings.ToUpper(strings.ReplaceAll(s.requestID(), "-", "")[:16])
	if r.Method != http.MethodGet && r.Method != http.MethodHead || bucket == "" || key == "" {
		writeS3Error(w, r, APIError{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource (awsfake serves GetObject only)."}, bucket, key, reqID)
		return
	}
	call := Call{Service: ServiceS3, Op: "GetObject", Input: &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, Time: s.now()}
	if v, ok := awsmodel.AsViolation(awsmodel.ValidateGetObject(call.Input.(*s3.GetObjectInput))); ok {
		call.ErrorCode = v.Code
		s.calls = append(s.calls, call)
		writeS3Error(w, r, APIError{Status: http.StatusBadRequest, Code: v.Code, Message: v.Message}, bucket, key, reqID)
		return
	}
	if fault, ok := s.takeFault("GetObject"); ok {
		call.ErrorCode = fault.Code
		s.calls = append(s.calls, call)
		writeS3Error(w, r, fault, bucket, key, reqID)
		return
	}
	objs, ok := s.objects[bucket]
	if !ok {
		call.ErrorCode = "NoSuchBucket"
		s.calls = append(s.calls, call)
		writeS3Error(w, r, APIError{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist"}, bucket, "", reqID)
		return
	}
	obj, ok := objs[key]
	if !ok {
		call.ErrorCode = "NoSuchKey"
		s.calls = append(s.calls, call)
		writeS3Error(w, r, APIError{Status: http.StatusNotFound, Code: "NoSuchKey", Message: "The specified key does not exist."}, "", key, reqID)
		return
	}
	s.calls = append(s.calls, call)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(obj.body)))
	h.Set("ETag", obj.etag)
	h.Set("Last-Modified", obj.modified.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	h.Set("X-Amz-Request-Id", reqID)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(obj.body)
	}
}
