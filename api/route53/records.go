package route53

import (
	"context"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/core"
)

// The record-set operations.

// rrTypes is the model's RRType enumeration, in its order.
var rrTypes = []string{"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS"}

func (h *Handler) changeResourceRecordSets(ctx context.Context, r *api.Request, id string) (result, error) {
	var req changeResourceRecordSetsRequest
	if err := decodeBody(r.Body, &req); err != nil {
		return result{}, err
	}
	if req.ChangeBatch == nil {
		return result{}, required("ChangeResourceRecordSetsRequest", "ChangeBatch")
	}
	if len(req.ChangeBatch.Changes) == 0 {
		return result{}, required("Changes", "Change")
	}
	in := core.ChangeResourceRecordSetsInput{HostedZoneID: id, Comment: deref(req.ChangeBatch.Comment)}
	if err := maxLength(in.Comment, 256, "ResourceDescription"); err != nil {
		return result{}, err
	}
	for _, ch := range req.ChangeBatch.Changes {
		c, err := changeFrom(ch)
		if err != nil {
			return result{}, err
		}
		in.Changes = append(in.Changes, c)
	}
	change, err := h.cloud.ChangeResourceRecordSets(ctx, r.Caller, in)
	if err != nil {
		return result{}, err
	}
	return result{body: &changeResourceRecordSetsResponse{ChangeInfo: changeOut(change)}}, nil
}

// changeFrom checks one Change element and converts it.
func changeFrom(ch change) (core.RecordSetChange, error) {
	switch {
	case ch.Action == nil:
		return core.RecordSetChange{}, required("Change", "Action")
	case ch.ResourceRecordSet == nil:
		return core.RecordSetChange{}, required("Change", "ResourceRecordSet")
	}
	if err := enumeration(*ch.Action, "CREATE", "DELETE", "UPSERT"); err != nil {
		return core.RecordSetChange{}, err
	}
	s := ch.ResourceRecordSet
	switch {
	case s.Name == nil:
		return core.RecordSetChange{}, required("ResourceRecordSet", "Name")
	case s.Type == nil:
		return core.RecordSetChange{}, required("ResourceRecordSet", "Type")
	}
	if err := firstErr(maxLength(*s.Name, 1024, "DNSName"), enumeration(*s.Type, rrTypes...)); err != nil {
		return core.RecordSetChange{}, err
	}
	set := core.RecordSetInput{Name: *s.Name, Type: *s.Type, HealthCheckID: deref(s.HealthCheckID)}
	if s.TTL != nil {
		ttl, err := parseLong(*s.TTL, 0, 2147483647, "TTL")
		if err != nil {
			return core.RecordSetChange{}, err
		}
		set.TTL = &ttl
	}
	if rs := s.ResourceRecords; rs != nil {
		if len(rs.ResourceRecord) == 0 {
			return core.RecordSetChange{}, required("ResourceRecords", "ResourceRecord")
		}
		set.Records = make([]string, 0, len(rs.ResourceRecord))
		for _, rec := range rs.ResourceRecord {
			if rec.Value == nil {
				return core.RecordSetChange{}, required("ResourceRecord", "Value")
			}
			if err := maxLength(*rec.Value, 4000, "RData"); err != nil {
				return core.RecordSetChange{}, err
			}
			set.Records = append(set.Records, *rec.Value)
		}
	}
	if a := s.AliasTarget; a != nil {
		switch {
		case a.HostedZoneID == nil:
			return core.RecordSetChange{}, required("AliasTarget", "HostedZoneId")
		case a.DNSName == nil:
			return core.RecordSetChange{}, required("AliasTarget", "DNSName")
		case a.EvaluateTargetHealth == nil:
			return core.RecordSetChange{}, required("AliasTarget", "EvaluateTargetHealth")
		}
		eval, err := parseBool(*a.EvaluateTargetHealth)
		if err != nil {
			return core.RecordSetChange{}, err
		}
		if err := firstErr(maxLength(*a.HostedZoneID, 32, "ResourceId"), maxLength(*a.DNSName, 1024, "DNSName")); err != nil {
			return core.RecordSetChange{}, err
		}
		set.Alias = &core.AliasTarget{HostedZoneID: *a.HostedZoneID, DNSName: *a.DNSName, EvaluateTargetHealth: eval}
	}
	for _, m := range []struct {
		name  string
		given bool
	}{
		{"SetIdentifier", s.SetIdentifier != nil}, {"Weight", s.Weight != nil}, {"Region", s.Region != nil},
		{"GeoLocation", s.GeoLocation != nil}, {"Failover", s.Failover != nil}, {"MultiValueAnswer", s.MultiValueAnswer != nil},
		{"TrafficPolicyInstanceId", s.TrafficPolicyInstanceID != nil}, {"CidrRoutingConfig", s.CidrRoutingConfig != nil},
		{"GeoProximityLocation", s.GeoProximityLocation != nil},
	} {
		if m.given {
			set.Routing = append(set.Routing, m.name)
		}
	}
	return core.RecordSetChange{Action: *ch.Action, Set: set}, nil
}

func (h *Handler) listResourceRecordSets(ctx context.Context, r *api.Request, id string) (result, error) {
	q := r.HTTP.URL.Query()
	n, err := maxItems(q.Get("maxitems"))
	if err != nil {
		return result{}, err
	}
	in := core.ListResourceRecordSetsInput{
		HostedZoneID: id, StartRecordName: q.Get("name"), StartRecordType: q.Get("type"),
		StartRecordIdentifier: q.Get("identifier"), MaxItems: n,
	}
	if err := maxLength(in.StartRecordName, 1024, "DNSName"); err != nil {
		return result{}, err
	}
	if in.StartRecordType != "" {
		if err := enumeration(in.StartRecordType, rrTypes...); err != nil {
			return result{}, err
		}
	}
	page, err := h.cloud.ListResourceRecordSets(ctx, r.Caller, in)
	if err != nil {
		return result{}, err
	}
	out := &listResourceRecordSetsResponse{
		IsTruncated: page.IsTruncated, NextRecordName: page.NextRecordName, NextRecordType: page.NextRecordType,
		MaxItems: echoMaxItems(q.Get("maxitems"), 300),
	}
	for _, s := range page.RecordSets {
		out.ResourceRecordSets.ResourceRecordSet = append(out.ResourceRecordSets.ResourceRecordSet, recordSetFrom(s))
	}
	return result{body: out}, nil
}

func recordSetFrom(s core.ResourceRecordSet) recordSetOut {
	out := recordSetOut{Name: s.Name, Type: s.Type}
	if s.Alias != nil {
		out.AliasTarget = &aliasTargetOut{HostedZoneID: s.Alias.HostedZoneID, DNSName: s.Alias.DNSName, EvaluateTargetHealth: s.Alias.EvaluateTargetHealth}
		return out
	}
	ttl := s.TTL
	out.TTL = &ttl
	out.ResourceRecords = &resourceRecords{}
	for _, v := range s.Records {
		out.ResourceRecords.ResourceRecord = append(out.ResourceRecords.ResourceRecord, resourceRecord{Value: v})
	}
	return out
}
