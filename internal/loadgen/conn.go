package loadgen

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection with a minimal client: it
// writes a prepared request in one write and reads one response (status,
// the few headers that matter, a Content-Length or chunked body). It is
// what lets the load generator spend far less CPU per request than
// net/http's client, so that on a small machine the server, not the
// client, is measured.
type conn struct {
	addr    string
	tls     *tls.Config // nil for plain HTTP
	timeout time.Duration

	c        net.Conn
	r        *bufio.Reader
	deadline time.Time
}

// response is what roundTrip learned about one response.
type response struct {
	status    int
	errorType string // x-amzn-ErrorType (before any ':'), "" if absent
	body      []byte // valid until the next roundTrip
}

// errTransport wraps failures below HTTP (dial, reset, timeout, bad
// framing); the connection is closed and redialled on the next request.
type errTransport struct{ err error }

func (e *errTransport) Error() string { return "transport: " + e.err.Error() }
func (e *errTransport) Unwrap() error { return e.err }

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

func (c *conn) dial() error {
	d := net.Dialer{Timeout: c.timeout}
	nc, err := d.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	if c.tls != nil {
		tc := tls.Client(nc, c.tls)
		tc.SetDeadline(time.Now().Add(c.timeout))
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	c.c = nc
	if c.r == nil {
		c.r = bufio.NewReaderSize(nc, 32<<10)
	} else {
		c.r.Reset(nc)
	}
	c.deadline = time.Time{}
	return nil
}

// roundTrip sends req (a complete HTTP/1.1 request) and reads the
// response, reusing *body's storage for the response body.
func (c *conn) roundTrip(req []byte, body *[]byte, now time.Time) (response, error) {
	if c.c == nil {
		if err := c.dial(); err != nil {
			return response{}, &errTransport{err}
		}
	}
	// Refresh the deadline only now and then: it is a timer operation.
	if c.deadline.Sub(now) < c.timeout/2 {
		c.deadline = now.Add(c.timeout)
		c.c.SetDeadline(c.deadline)
	}
	if _, err := c.c.Write(req); err != nil {
		c.close()
		return response{}, &errTransport{err}
	}
	resp, keep, err := c.readResponse(body)
	if err != nil {
		c.close()
		return response{}, &errTransport{err}
	}
	if !keep {
		c.close()
	}
	return resp, nil
}

var errFraming = errors.New("malformed HTTP response")

// maxBody caps a response body (a misbehaving server cannot make the
// client allocate without bound).
const maxBody = 64 << 20

func (c *conn) readResponse(body *[]byte) (resp response, keep bool, err error) {
	line, err := c.line()
	if err != nil {
		return resp, false, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return resp, false, errFraming
	}
	resp.status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return resp, false, errFraming
	}
	keep = line[7] == '1'
	length, chunked := int64(-1), false
	for {
		line, err = c.line()
		if err != nil {
			return resp, false, err
		}
		if len(line) == 0 {
			break
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return resp, false, errFraming
		}
		name, value := line[:i], bytes.TrimSpace(line[i+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || length < 0 {
				return resp, false, errFraming
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		case bytes.EqualFold(name, []byte("X-Amzn-Errortype")):
			if j := bytes.IndexByte(value, ':'); j >= 0 {
				value = value[:j]
			}
			resp.errorType = string(value)
		}
	}
	b := (*body)[:0]
	switch {
	case chunked:
		b, err = c.readChunked(b)
	case length > maxBody:
		return resp, false, fmt.Errorf("response body over 64 MiB")
	case length >= 0:
		if int64(cap(b)) < length {
			b = make([]byte, 0, length)
		}
		b = b[:length]
		_, err = io.ReadFull(c.r, b)
	default: // body until close
		keep = false
		b, err = appendAll(b, c.r)
	}
	*body = b
	resp.body = b
	return resp, keep, err
}

// line returns the next CRLF-terminated line without its terminator.
func (c *conn) line() ([]byte, error) {
	l, err := c.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errFraming
		}
		return nil, err
	}
	return bytes.TrimRight(l, "\r\n"), nil
}

func (c *conn) readChunked(b []byte) ([]byte, error) {
	for {
		line, err := c.line()
		if err != nil {
			return b, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 || int64(len(b))+n > maxBody {
			return b, errFraming
		}
		if n == 0 {
			for { // trailers
				l, err := c.line()
				if err != nil {
					return b, err
				}
				if len(l) == 0 {
					return b, nil
				}
			}
		}
		start := len(b)
		b = append(b, make([]byte, n)...)
		if _, err := io.ReadFull(c.r, b[start:]); err != nil {
			return b, err
		}
		if l, err := c.line(); err != nil || len(l) != 0 {
			return b, errFraming
		}
	}
}

func appendAll(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) > maxBody {
			return b, fmt.Errorf("response body over 64 MiB")
		}
	}
}
