package etcdstore

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newZapLogger returns a zap logger that writes through l, so etcd's server
// and client log where the rest of privlink logs. etcd's info chatter goes to
// slog's debug level; its warnings and errors keep their level.
func newZapLogger(l *slog.Logger) *zap.Logger {
	return zap.New(&slogCore{l: l})
}

// slogCore is a zapcore.Core that forwards entries to a slog.Logger.
type slogCore struct {
	l      *slog.Logger
	fields []zapcore.Field // fields added with With, logged on every entry
}

func (c *slogCore) Enabled(lvl zapcore.Level) bool {
	return c.l.Enabled(context.Background(), slogLevel(lvl))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{l: c.l, fields: append(slices.Clip(c.fields), fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	lvl := slogLevel(e.Level)
	if lvl >= slog.LevelWarn && mayBeRoutine(e.Message) {
		lvl = slog.LevelDebug
	}
	if c.l.Enabled(context.Background(), lvl) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	lvl := slogLevel(e.Level)
	if lvl >= slog.LevelWarn && routine(e.Message, enc.Fields) {
		lvl = slog.LevelDebug
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys)+1)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("logger", e.LoggerName))
	}
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	c.l.LogAttrs(context.Background(), lvl, e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

// slogLevel maps a zap level to the slog level privlink logs it at.
func slogLevel(lvl zapcore.Level) slog.Level {
	switch {
	case lvl >= zapcore.ErrorLevel:
		return slog.LevelError
	case lvl == zapcore.WarnLevel:
		return slog.LevelWarn
	case lvl == zapcore.InfoLevel:
		return slog.LevelDebug
	default:
		return slog.LevelDebug - 4
	}
}

// Messages etcd logs as warnings or errors in a healthy embedded member.
const (
	msgSinglePort       = "Running http and grpc server on single port. This is not recommended for production."
	msgDetectSchema     = "Failed to detect schema version"
	msgUpdateStorageVer = "failed to update storage version"
)

// msgPendingConf ends the message raft logs when a restarted member's
// election timer fires before it has applied its WAL's membership entries;
// raft campaigns again on the next timeout.
const msgPendingConf = "since there are still pending configuration changes to apply"

func mayBeRoutine(msg string) bool {
	switch msg {
	case msgSinglePort, msgDetectSchema, msgUpdateStorageVer:
		return true
	}
	return strings.HasSuffix(msg, msgPendingConf)
}

// routine reports whether a warning or error says nothing about the
// member's health, so privlink logs it at debug level. The single-port
// warning comes with every start (there are no ports at all); the schema
// messages come when a fresh member's version monitor runs before the
// backend's first commit has stored the raft term, and the monitor retries;
// the pending-configuration one comes with restarts.
func routine(msg string, fields map[string]any) bool {
	switch msg {
	case msgSinglePort:
		return true
	case msgDetectSchema, msgUpdateStorageVer:
		err, _ := fields["error"].(string)
		return strings.Contains(err, "missing term information")
	}
	return strings.HasSuffix(msg, msgPendingConf)
}
