package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// usage is the token count Bedrock reported for one call.
type usage struct{ in, out int64 }

func (u usage) total() int64 { return u.in + u.out }

// InvokeModel reports usage in response headers.
const (
	hdrInputTokens  = "X-Amzn-Bedrock-Input-Token-Count"
	hdrOutputTokens = "X-Amzn-Bedrock-Output-Token-Count"
)

func headerUsage(h http.Header) usage {
	in, _ := strconv.ParseInt(h.Get(hdrInputTokens), 10, 64)
	out, _ := strconv.ParseInt(h.Get(hdrOutputTokens), 10, 64)
	return usage{in, out}
}

// bodyUsage reads Converse's `usage` object.
func bodyUsage(b []byte) usage {
	var v struct {
		Usage struct{ InputTokens, OutputTokens int64 } `json:"usage"`
	}
	_ = json.Unmarshal(b, &v)
	return usage{v.Usage.InputTokens, v.Usage.OutputTokens}
}

// capWriter keeps the first max bytes written to it (a copy of a
// non-streaming answer, for its usage); the answer itself is not delayed.
type capWriter struct {
	buf bytes.Buffer
	max int
}

func (c *capWriter) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// maxFrame bounds one event-stream message; past it the parser gives up
// (the answer still streams, the usage is then taken from headers).
const maxFrame = 16 << 20

// streamUsage parses a copy of an AWS event stream as it passes, frame by
// frame, and takes the usage from ConverseStream's `metadata` event or from
// InvokeModelWithResponseStream's final chunk (`amazon-bedrock-invocationMetrics`).
type streamUsage struct {
	buf  []byte
	u    usage
	dec  *eventstream.Decoder
	dead bool
}

func (s *streamUsage) Write(p []byte) (int, error) {
	if s.dead {
		return len(p), nil
	}
	s.buf = append(s.buf, p...)
	for len(s.buf) >= 12 {
		total := binary.BigEndian.Uint32(s.buf[:4])
		if total < 16 || total > maxFrame {
			s.dead, s.buf = true, nil
			break
		}
		if uint32(len(s.buf)) < total {
			break
		}
		if s.dec == nil {
			s.dec = eventstream.NewDecoder()
		}
		if m, err := s.dec.Decode(bytes.NewReader(s.buf[:total]), nil); err == nil {
			s.observe(m)
		}
		s.buf = append(s.buf[:0], s.buf[total:]...)
	}
	return len(p), nil
}

func (s *streamUsage) observe(m eventstream.Message) {
	t := m.Headers.Get(":event-type")
	if t == nil {
		return
	}
	switch t.String() {
	case "metadata":
		if u := bodyUsage(m.Payload); u.total() > 0 {
			s.u = u
		}
	case "chunk":
		var c struct {
			Bytes []byte `json:"bytes"` // base64 in JSON
		}
		if json.Unmarshal(m.Payload, &c) != nil || !bytes.Contains(c.Bytes, []byte("amazon-bedrock-invocationMetrics")) {
			return
		}
		var inner struct {
			Metrics struct{ InputTokenCount, OutputTokenCount int64 } `json:"amazon-bedrock-invocationMetrics"`
		}
		if json.Unmarshal(c.Bytes, &inner) == nil {
			s.u = usage{inner.Metrics.InputTokenCount, inner.Metrics.OutputTokenCount}
		}
	}
}
