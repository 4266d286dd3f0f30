package lab

import (
	"testing"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
)

// encodeRuleset queues what install sends, on a connection that sends
// nothing: every set element and rule expression is built and marshalled.
func encodeRuleset(rs *ruleset) error {
	c, err := nftables.New(nftables.WithTestDial(func(req []netlink.Message) ([]netlink.Message, error) { return req, nil }))
	if err != nil {
		return err
	}
	return rs.queue(c)
}

// BenchmarkEncodeSecurityGroups times the user-space half of install: the
// nftables set elements and rule expressions of a compiled ruleset, queued
// as netlink messages. It needs no root; the kernel's side is timed by
// BenchmarkInstallFirewall, which does.
func BenchmarkEncodeSecurityGroups(b *testing.B) {
	for _, size := range sgSizes {
		b.Run(size.name, func(b *testing.B) {
			rs, err := compileFirewall(size.fw(), addrs("10.0.0.1", "10.0.0.2"))
			if err != nil {
				b.Fatal(err)
			}
			if err := encodeRuleset(rs); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := encodeRuleset(rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
