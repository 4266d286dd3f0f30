package explain

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/privlink/privlink/core"
)

// Security groups are judged as the lab's firewall compiles them
// (lab/firewall.go, reconcile/desired.go): a rule matches a TCP flow when
// its protocol is tcp (within its port range; -1 ports mean all) or -1
// (everything), and its peer is a CIDR that contains the other end's
// address or a group carried by an interface in the VPC that has that
// address. Groups that do not exist admit nothing.

// groupMatch is the first rule of a set of groups that matches a flow.
type groupMatch struct {
	group *core.SecurityGroup
	rule  core.SecurityGroupRule
}

// match returns the first rule of groups (in their order, rules in theirs)
// in the direction asked that admits tcp/port with peer at the other end.
func (w *walker) match(groups []string, egress bool, vpcID string, peer netip.Addr, port int32) (groupMatch, bool) {
	for _, id := range groups {
		g, ok := w.s.SecurityGroups[id]
		if !ok {
			continue
		}
		for _, r := range g.Rules {
			if r.Egress == egress && ruleAdmitsPort(r, port) && w.rulePeer(r, vpcID, peer) {
				return groupMatch{group: g, rule: r}, true
			}
		}
	}
	return groupMatch{}, false
}

func ruleAdmitsPort(r core.SecurityGroupRule, port int32) bool {
	switch r.Protocol {
	case core.ProtocolAll:
		return true
	case core.ProtocolTCP:
		if r.FromPort < 0 || r.ToPort < 0 {
			return true
		}
		return r.FromPort <= port && port <= r.ToPort
	}
	return false
}

// rulePeer reports whether a rule's peer covers addr: its CIDR contains it,
// or an interface in vpcID with that address carries its group.
func (w *walker) rulePeer(r core.SecurityGroupRule, vpcID string, addr netip.Addr) bool {
	if r.GroupID != "" {
		for _, eni := range w.s.ENIs {
			if eni.VpcID == vpcID && eni.PrivateIP == addr && slices.Contains(eni.SecurityGroupIDs, r.GroupID) {
				return true
			}
		}
		return false
	}
	return r.CIDR.IsValid() && r.CIDR.Addr().Is4() && r.CIDR.Contains(addr)
}

// describeRule renders a rule the way a network engineer reads it:
// "tcp/443 from 10.0.0.0/16", "all traffic to sg-0123…".
func describeRule(r core.SecurityGroupRule) string {
	dir := "from"
	if r.Egress {
		dir = "to"
	}
	peer := "nothing"
	switch {
	case r.GroupID != "":
		peer = r.GroupID
	case r.CIDR.IsValid():
		peer = r.CIDR.String()
	}
	return portSpec(r) + " " + dir + " " + peer
}

func portSpec(r core.SecurityGroupRule) string {
	switch r.Protocol {
	case core.ProtocolAll:
		return "all traffic"
	case core.ProtocolTCP, core.ProtocolUDP:
		switch {
		case r.FromPort < 0 || r.ToPort < 0 || r.FromPort == 0 && r.ToPort == 65535:
			return r.Protocol + "/all ports"
		case r.FromPort == r.ToPort:
			return r.Protocol + "/" + strconv.Itoa(int(r.FromPort))
		}
		return fmt.Sprintf("%s/%d-%d", r.Protocol, r.FromPort, r.ToPort)
	case core.ProtocolICMP, core.ProtocolICMPv6:
		return r.Protocol
	}
	return "protocol " + r.Protocol
}

// describeMatch names the group and the rule that admitted a flow.
func describeMatch(m groupMatch) string {
	g := m.group.ID
	if m.group.Name != "" {
		g += " (" + m.group.Name + ")"
	}
	rule := "rule"
	if m.rule.ID != "" {
		rule += " " + m.rule.ID
	}
	return g + " " + rule + ": " + describeRule(m.rule)
}

// maxListedRules bounds the rules a finding lists when nothing matched.
const maxListedRules = 8

// listRules lists the rules of groups in one direction, to show what they
// do admit when none admits the flow.
func (w *walker) listRules(groups []string, egress bool) string {
	word := "inbound"
	if egress {
		word = "outbound"
	}
	var parts []string
	n := 0
	for _, id := range groups {
		g, ok := w.s.SecurityGroups[id]
		if !ok {
			parts = append(parts, id+": does not exist")
			continue
		}
		var rules []string
		own := 0
		for _, r := range g.Rules {
			if r.Egress != egress {
				continue
			}
			own++
			if n++; n <= maxListedRules {
				rules = append(rules, describeRule(r))
			}
		}
		switch {
		case own == 0:
			parts = append(parts, id+": none")
		case len(rules) > 0:
			parts = append(parts, id+": "+strings.Join(rules, ", "))
		}
	}
	out := word + " rules: " + strings.Join(parts, "; ")
	if n > maxListedRules {
		out += fmt.Sprintf("; and %d more", n-maxListedRules)
	}
	return out
}
