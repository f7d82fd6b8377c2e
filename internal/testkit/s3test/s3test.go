// Package s3test starts an S3-compatible server (gofakes3, in memory) on
// loopback for tests of the CLI's s3:// state backend.
package s3test

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is a running fake S3 endpoint with one bucket.
type Server struct {
	Endpoint string
	Bucket   string
}

// Start serves a fresh in-memory S3 on 127.0.0.1 with bucket made, for the
// test's life, and sets the AWS environment a client needs to reach it
// (static keys, a region, no instance metadata).
func Start(t testing.TB, bucket string) Server {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket(bucket); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	for k, v := range Env() {
		t.Setenv(k, v)
	}
	return Server{Endpoint: srv.URL, Bucket: bucket}
}

// Env is the AWS environment for the fake server: static test keys (the
// server checks none) and no instance-metadata lookups.
func Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":         "test-access-key",
		"AWS_SECRET_ACCESS_KEY":     "test-secret-key",
		"AWS_REGION":                "us-east-1",
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// URL is the backend URL for a folder of the bucket (empty: the bucket's
// root), with the endpoint and path-style options of gocloud's s3 URLs that
// both the oldest (AWS SDK v1) and the newest (v2) supported CLI accept.
func (s Server) URL(folder string) string {
	q := url.Values{}
	q.Set("endpoint", s.Endpoint)
	q.Set("region", "us-east-1")
	q.Set("s3ForcePathStyle", "true")
	u := url.URL{Scheme: "s3", Host: s.Bucket, Path: "/" + folder, RawQuery: q.Encode()}
	if folder == "" {
		u.Path = ""
	}
	return u.String()
}
