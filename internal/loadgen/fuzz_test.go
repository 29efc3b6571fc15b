package loadgen

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadResponse: the HTTP/1.1 response reader never panics, never
// returns more body than it read, and accepts what net/http servers send.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
		"HTTP/1.1 400 Bad Request\r\nX-Amzn-Errortype: ResourceNotFoundException:http://x/\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close",
		"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 2000\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n",
		"garbage",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &conn{r: bufio.NewReaderSize(bytes.NewReader(data), 4096)}
		var body []byte
		resp, _, err := c.readResponse(&body)
		if err == nil && len(resp.body) > len(data) {
			t.Fatalf("body of %d bytes from %d bytes of input", len(resp.body), len(data))
		}
	})
}

// FuzzReadCredentials: any credentials file either parses or fails
// cleanly, and an error never quotes the secret key.
func FuzzReadCredentials(f *testing.F) {
	f.Add([]byte("[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRETKEY\n"), "default")
	f.Add([]byte("[profile x]\naws_access_key_id=A\n"), "x")
	f.Add([]byte("[default\n=\n"), "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, profile string) {
		path := filepath.Join(dir, "credentials")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := ReadCredentials(path, profile)
		if err != nil {
			if c != (Credentials{}) {
				t.Fatalf("credentials returned with an error")
			}
			return
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			t.Fatalf("incomplete credentials without an error: %+v", c)
		}
	})
}
