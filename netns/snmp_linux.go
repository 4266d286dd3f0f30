package netns

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// TCPSegmentsIn returns how many TCP segments the namespace has received
// (InSegs of /proc/net/snmp). A check that nothing reached a namespace
// compares it before and after: a timeout alone does not show that, when
// an answer can be lost on a way back that another namespace shares.
func (ns *NS) TCPSegmentsIn() (int64, error) {
	var b []byte
	err := ns.Do(func() error {
		var err error
		// /proc/net follows the process's first thread; thread-self is
		// this one, which is in the namespace.
		b, err = os.ReadFile("/proc/thread-self/net/snmp")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("netns: /proc/net/snmp of %s: %w", ns.name, err)
	}
	return tcpInSegs(string(b))
}

// tcpInSegs reads InSegs from the Tcp lines of /proc/net/snmp: a line of
// names, then one of values.
func tcpInSegs(snmp string) (int64, error) {
	var names []string
	for line := range strings.Lines(snmp) {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = fields
			continue
		}
		if i := slices.Index(names, "InSegs"); i > 0 && i < len(fields) {
			return strconv.ParseInt(fields[i], 10, 64)
		}
	}
	return 0, fmt.Errorf("netns: no Tcp InSegs in /proc/net/snmp")
}
