package statesync

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"rampart/statesync/ctnl"
)

// FrameType says what a frame carries. See the package comment for the
// layouts.
type FrameType uint8

// Frame types. Hello, Refuse and Ack are unsequenced; the others carry a
// sequence number that the receiver acknowledges.
const (
	TypeHello     FrameType = 1
	TypeRefuse    FrameType = 2
	TypeAck       FrameType = 3
	TypeRequest   FrameType = 4 // since protocol v2
	TypeResponse  FrameType = 5 // since protocol v2
	TypePing      FrameType = 16
	TypeBulkBegin FrameType = 17
	TypeEntries   FrameType = 18
	TypeBulkEnd   FrameType = 19
)

func (t FrameType) String() string {
	switch t {
	case TypeHello:
		return "hello"
	case TypeRefuse:
		return "refuse"
	case TypeAck:
		return "ack"
	case TypeRequest:
		return "request"
	case TypeResponse:
		return "response"
	case TypePing:
		return "ping"
	case TypeBulkBegin:
		return "bulk-begin"
	case TypeEntries:
		return "entries"
	case TypeBulkEnd:
		return "bulk-end"
	}
	return fmt.Sprintf("FrameType(%d)", uint8(t))
}

// sequenced reports whether frames of type t carry a sequence number.
func (t FrameType) sequenced() bool { return t >= TypePing && t <= TypeBulkEnd }

// Op is what a record does to the receiver's copy of a flow.
type Op uint8

// Record operations. Every conntrack event maps to one: NEW and UPDATE
// to OpUpdate (an upsert), DESTROY to OpDestroy.
const (
	OpUpdate  Op = 1
	OpDestroy Op = 2
)

// RefuseCode says why a node refused a session.
type RefuseCode uint8

// Refusal codes.
const (
	RefuseVersion  RefuseCode = 1 // no protocol version in common
	RefuseProtocol RefuseCode = 2 // a frame broke the protocol
)

// Wire constants. Hello's magic and layout are the same in every
// protocol version, so that any two versions can tell each other apart
// and refuse with a clear message instead of misreading each other.
const (
	helloMagic = "RSYN"
	// MaxFrameLen bounds a frame (type and body): the reader allocates
	// no more than this per frame, whatever the length field says.
	MaxFrameLen = 1 << 20
	// maxReasonLen bounds a refusal's text.
	maxReasonLen = 1024

	frameHeaderLen = 5  // length, type
	helloLen       = 20 // magic, min, max, instance, keepalive
	seqHeaderLen   = 12 // seq, lag
)

// Hello opens a session in both directions: the sender's offer and the
// receiver's answer.
type Hello struct {
	// MinVersion and MaxVersion are the protocol versions the node
	// speaks; a receiver answers with both set to the version it chose.
	MinVersion, MaxVersion uint16
	// Instance is random per sender process: the receiver tells a
	// sender that reconnects from one that restarted.
	Instance uint64
	// Keepalive is how often the sender sends at least a ping, so that
	// the receiver knows when to give up on a silent peer.
	Keepalive time.Duration
}

// Record is one flow change in an Entries frame.
type Record struct {
	Op    Op
	Entry ctnl.Entry
}

// Frame is one message of the sync protocol. Which fields count depends
// on Type.
type Frame struct {
	Type  FrameType
	Hello Hello // TypeHello

	Code   RefuseCode // TypeRefuse
	Reason string     // TypeRefuse

	// Seq is the frame's sequence number (sequenced types) or the last
	// one acknowledged (TypeAck).
	Seq uint64
	// Lag is the sender's latest measured replication lag, carried so
	// that the receiver can show it too. Microsecond resolution.
	Lag time.Duration

	Records []Record // TypeEntries
	Count   uint32   // TypeBulkEnd: entries sent in the bulk

	// Requests and responses: the id that pairs them, the request's kind
	// (what the peer's handler is asked), whether the response is a
	// failure (Body is then its UTF-8 message), and the body.
	ID     uint64
	Kind   uint8
	Failed bool
	Body   []byte
}

var (
	errFrameShort  = errors.New("frame truncated")
	errFrameLong   = errors.New("frame too long")
	errFrameTrail  = errors.New("bytes after the frame body")
	errFrameType   = errors.New("unknown frame type")
	errFrameMagic  = errors.New("not a rampart state sync hello")
	errFrameOp     = errors.New("unknown record operation")
	errFrameReason = errors.New("refusal reason too long or not UTF-8")
	errFrameFlag   = errors.New("response status is neither 0 nor 1")
)

// FrameError is a frame that does not decode or encode.
type FrameError struct {
	Type FrameType
	Err  error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("statesync: %v frame: %v", e.Type, e.Err)
}
func (e *FrameError) Unwrap() error { return e.Err }

// AppendFrame appends the encoding of f, length prefix included, to b.
func AppendFrame(b []byte, f *Frame) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0, byte(f.Type))
	var err error
	switch {
	case f.Type == TypeHello:
		b = appendHello(b, f.Hello)
	case f.Type == TypeRefuse:
		if len(f.Reason) > maxReasonLen || !utf8.ValidString(f.Reason) {
			return b[:start], &FrameError{f.Type, errFrameReason}
		}
		b = append(b, byte(f.Code))
		b = append(b, f.Reason...)
	case f.Type == TypeAck:
		b = binary.BigEndian.AppendUint64(b, f.Seq)
	case f.Type == TypeRequest:
		b = binary.BigEndian.AppendUint64(b, f.ID)
		b = append(b, f.Kind)
		b = append(b, f.Body...)
	case f.Type == TypeResponse:
		b = binary.BigEndian.AppendUint64(b, f.ID)
		b = append(b, boolByte(f.Failed))
		b = append(b, f.Body...)
	case f.Type.sequenced():
		b = binary.BigEndian.AppendUint64(b, f.Seq)
		b = binary.BigEndian.AppendUint32(b, lagMicros(f.Lag))
		b, err = appendSequencedBody(b, f)
	default:
		err = errFrameType
	}
	if err != nil {
		return b[:start], &FrameError{f.Type, err}
	}
	n := len(b) - start - 4
	if n > MaxFrameLen {
		return b[:start], &FrameError{f.Type, errFrameLong}
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

func appendHello(b []byte, h Hello) []byte {
	b = append(b, helloMagic...)
	b = binary.BigEndian.AppendUint16(b, h.MinVersion)
	b = binary.BigEndian.AppendUint16(b, h.MaxVersion)
	b = binary.BigEndian.AppendUint64(b, h.Instance)
	ms := h.Keepalive.Milliseconds()
	return binary.BigEndian.AppendUint32(b, uint32(min(max(ms, 0), math.MaxUint32)))
}

func appendSequencedBody(b []byte, f *Frame) ([]byte, error) {
	switch f.Type {
	case TypeEntries:
		for i := range f.Records {
			var err error
			if b, err = appendRecord(b, f.Records[i].Op, &f.Records[i].Entry); err != nil {
				return b, fmt.Errorf("record %d: %w", i, err)
			}
		}
	case TypeBulkEnd:
		b = binary.BigEndian.AppendUint32(b, f.Count)
	}
	return b, nil
}

// appendRecord appends one record of an Entries frame to b, or returns
// b as it was with the error.
func appendRecord(b []byte, op Op, e *ctnl.Entry) ([]byte, error) {
	if op != OpUpdate && op != OpDestroy {
		return b, fmt.Errorf("%w %d", errFrameOp, op)
	}
	out, err := e.AppendBinary(append(b, byte(op)))
	if err != nil {
		return b, err
	}
	return out, nil
}

// entriesHeaderLen is the length of an Entries frame before its records.
const entriesHeaderLen = frameHeaderLen + seqHeaderLen

// putEntriesHeader fills in the header of an Entries frame built in
// place: entriesHeaderLen bytes of room, then records (appendRecord).
// This is how the sender builds frames of changes without a []Record in
// between.
func putEntriesHeader(b []byte, seq uint64, lag time.Duration) error {
	n := len(b) - 4
	if n > MaxFrameLen {
		return &FrameError{TypeEntries, errFrameLong}
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	b[4] = byte(TypeEntries)
	binary.BigEndian.PutUint64(b[frameHeaderLen:], seq)
	binary.BigEndian.PutUint32(b[frameHeaderLen+8:], lagMicros(lag))
	return nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// lagMicros is the lag in whole microseconds, saturated to the field.
func lagMicros(d time.Duration) uint32 {
	us := d.Microseconds()
	return uint32(min(max(us, 0), math.MaxUint32))
}

// ParseFrame decodes one whole frame, length prefix included. Entries
// in f.Records are appended to recs, so that a reader can reuse one
// slice.
func ParseFrame(b []byte, recs []Record) (Frame, error) {
	var f Frame
	if len(b) < frameHeaderLen {
		return f, &FrameError{0, errFrameShort}
	}
	n := binary.BigEndian.Uint32(b)
	f.Type = FrameType(b[4])
	switch {
	case n > MaxFrameLen:
		return Frame{}, &FrameError{f.Type, errFrameLong}
	case int64(n) > int64(len(b)-4):
		return Frame{}, &FrameError{f.Type, errFrameShort}
	case int64(n) < int64(len(b)-4):
		return Frame{}, &FrameError{f.Type, errFrameTrail}
	}
	err := parseBody(&f, b[frameHeaderLen:], recs)
	if err != nil {
		return Frame{}, &FrameError{f.Type, err}
	}
	return f, nil
}

func parseBody(f *Frame, body []byte, recs []Record) error {
	switch {
	case f.Type == TypeHello:
		return parseHello(f, body)
	case f.Type == TypeRefuse:
		if len(body) < 1 {
			return errFrameShort
		}
		if len(body)-1 > maxReasonLen || !utf8.Valid(body[1:]) {
			return errFrameReason
		}
		f.Code, f.Reason = RefuseCode(body[0]), string(body[1:])
		return nil
	case f.Type == TypeAck:
		if len(body) != 8 {
			return errFrameShort
		}
		f.Seq = binary.BigEndian.Uint64(body)
		return nil
	case f.Type == TypeRequest, f.Type == TypeResponse:
		if len(body) < 9 {
			return errFrameShort
		}
		f.ID = binary.BigEndian.Uint64(body)
		if f.Type == TypeRequest {
			f.Kind = body[8]
		} else if body[8] > 1 {
			return errFrameFlag
		} else {
			f.Failed = body[8] == 1
		}
		f.Body = bytes.Clone(body[9:]) // the frame must not point into the reader's buffer
		return nil
	case f.Type.sequenced():
		if len(body) < seqHeaderLen {
			return errFrameShort
		}
		f.Seq = binary.BigEndian.Uint64(body)
		f.Lag = time.Duration(binary.BigEndian.Uint32(body[8:])) * time.Microsecond
		return parseSequencedBody(f, body[seqHeaderLen:], recs)
	}
	return errFrameType
}

func parseHello(f *Frame, body []byte) error {
	if len(body) < len(helloMagic) || string(body[:len(helloMagic)]) != helloMagic {
		return errFrameMagic
	}
	if len(body) != helloLen {
		return errFrameShort
	}
	h := &f.Hello
	h.MinVersion = binary.BigEndian.Uint16(body[4:])
	h.MaxVersion = binary.BigEndian.Uint16(body[6:])
	h.Instance = binary.BigEndian.Uint64(body[8:])
	h.Keepalive = time.Duration(binary.BigEndian.Uint32(body[16:])) * time.Millisecond
	return nil
}

func parseSequencedBody(f *Frame, body []byte, recs []Record) error {
	switch f.Type {
	case TypeEntries:
		for i := 0; len(body) > 0; i++ {
			op := Op(body[0])
			if op != OpUpdate && op != OpDestroy {
				return fmt.Errorf("record %d: %w %d", i, errFrameOp, op)
			}
			e, n, err := ctnl.UnmarshalEntry(body[1:])
			if err != nil {
				return fmt.Errorf("record %d: %w", i, err)
			}
			recs = append(recs, Record{Op: op, Entry: e})
			body = body[1+n:]
		}
		f.Records = recs
		return nil
	case TypeBulkEnd:
		if len(body) != 4 {
			return errFrameShort
		}
		f.Count = binary.BigEndian.Uint32(body)
		return nil
	}
	if len(body) != 0 {
		return errFrameTrail
	}
	return nil
}

// ReadFrame reads one frame from r into buf (grown as needed, up to
// MaxFrameLen) and decodes it. It returns the buffer for reuse; the
// frame does not point into it.
func ReadFrame(r *bufio.Reader, buf []byte, recs []Record) (Frame, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, buf, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrameLen {
		return Frame{}, buf, &FrameError{0, fmt.Errorf("%w: %d bytes", errFrameLong, n)}
	}
	if cap(buf) < int(n)+4 {
		buf = make([]byte, int(n)+4)
	}
	buf = buf[:int(n)+4]
	copy(buf, hdr[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, buf, err
	}
	f, err := ParseFrame(buf, recs)
	return f, buf, err
}
