package query

import (
	"fmt"
	"time"
)

// TimestampFormat is how Query protocol responses write times: ISO 8601 in
// UTC with milliseconds, as EC2 and ELBv2 do.
const TimestampFormat = "2006-01-02T15:04:05.000Z"

// Timestamp is a model timestamp. It is written as TimestampFormat and read
// from any RFC 3339 time, with or without fractional seconds.
type Timestamp struct {
	time.Time
}

// NewTimestamp returns a *Timestamp for a field of a generated shape.
func NewTimestamp(t time.Time) *Timestamp {
	return &Timestamp{Time: t}
}

// String returns t in TimestampFormat.
func (t Timestamp) String() string {
	return t.UTC().Format(TimestampFormat)
}

// MarshalText implements encoding.TextMarshaler.
func (t Timestamp) MarshalText() ([]byte, error) {
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Timestamp) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return fmt.Errorf("timestamp %q is not ISO 8601: %w", b, err)
	}
	t.Time = v
	return nil
}
