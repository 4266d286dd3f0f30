package route53

import (
	"context"
	"net/http"
	"strconv"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/core"
)

// The hosted-zone operations and GetChange.

func (h *Handler) createHostedZone(ctx context.Context, r *api.Request, _ string) (result, error) {
	var req createHostedZoneRequest
	if err := decodeBody(r.Body, &req); err != nil {
		return result{}, err
	}
	const shape = "CreateHostedZoneRequest"
	switch {
	case req.Name == nil:
		return result{}, required(shape, "Name")
	case req.CallerReference == nil:
		return result{}, required(shape, "CallerReference")
	}
	in := core.CreateHostedZoneInput{Name: *req.Name, CallerReference: *req.CallerReference, DelegationSetID: deref(req.DelegationSetID)}
	if err := firstErr(
		maxLength(in.Name, 1024, "DNSName"),
		nonce(in.CallerReference),
		maxLength(in.DelegationSetID, 32, "ResourceId"),
	); err != nil {
		return result{}, err
	}
	if c := req.HostedZoneConfig; c != nil {
		in.Comment = deref(c.Comment)
		if err := maxLength(in.Comment, 256, "ResourceDescription"); err != nil {
			return result{}, err
		}
		if c.PrivateZone != nil {
			private, err := parseBool(*c.PrivateZone)
			if err != nil {
				return result{}, err
			}
			in.PrivateZone = private
		}
	}
	if req.VPC != nil {
		v, err := vpcFrom(req.VPC)
		if err != nil {
			return result{}, err
		}
		in.VPC = &v
	}
	z, change, err := h.cloud.CreateHostedZone(ctx, r.Caller, in)
	if err != nil {
		return result{}, err
	}
	out := &createHostedZoneResponse{
		HostedZone:    zoneOut(z),
		ChangeInfo:    changeOut(change),
		DelegationSet: &delegationSet{NameServers: z.NameServers},
	}
	if z.Private {
		out.VPC = &vpcOut{VPCRegion: z.VPCs[0].Region, VPCID: z.VPCs[0].VpcID}
	}
	return result{status: http.StatusCreated, location: "https://route53.amazonaws.com/2013-04-01/hostedzone/" + z.ID, body: out}, nil
}

// nonce checks a CallerReference: 1 to 128 characters.
func nonce(v string) error {
	if v == "" {
		return invalidXML("cvc-minLength-valid: Value '' with length = '0' is not facet-valid with respect to minLength '1' for type 'Nonce'.")
	}
	return maxLength(v, 128, "Nonce")
}

// vpcFrom checks a request's VPC element.
func vpcFrom(v *vpcIn) (core.ZoneVPC, error) {
	if v.VPCID == nil {
		return core.ZoneVPC{}, required("VPC", "VPCId")
	}
	out := core.ZoneVPC{VpcID: *v.VPCID, Region: deref(v.VPCRegion)}
	return out, firstErr(maxLength(out.VpcID, 1024, "VPCId"), maxLength(out.Region, 64, "VPCRegion"))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) getHostedZone(ctx context.Context, r *api.Request, id string) (result, error) {
	z, err := h.cloud.GetHostedZone(ctx, r.Caller, id)
	if err != nil {
		return result{}, err
	}
	out := &getHostedZoneResponse{HostedZone: zoneOut(z)}
	if z.Private {
		out.VPCs = &vpcsOut{}
		for _, v := range z.VPCs {
			out.VPCs.VPC = append(out.VPCs.VPC, vpcOut{VPCRegion: v.Region, VPCID: v.VpcID})
		}
	} else {
		out.DelegationSet = &delegationSet{NameServers: z.NameServers}
	}
	return result{body: out}, nil
}

// maxItems reads the maxitems parameter: "" is the default.
func maxItems(q string) (int, error) {
	if q == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n <= 0 {
		return 0, core.Errorf(core.KindInvalid, "InvalidInput", "Invalid value for parameter maxitems: '%s' is not a positive integer", clip(q))
	}
	return n, nil
}

// echoMaxItems is the MaxItems a list response reports: the request's, or
// the default page size.
func echoMaxItems(q string, def int) string {
	if q != "" {
		return q
	}
	return strconv.Itoa(def)
}

func (h *Handler) listHostedZones(ctx context.Context, r *api.Request, _ string) (result, error) {
	q := r.HTTP.URL.Query()
	n, err := maxItems(q.Get("maxitems"))
	if err != nil {
		return result{}, err
	}
	in := core.ListHostedZonesInput{Marker: q.Get("marker"), MaxItems: n, DelegationSetID: q.Get("delegationsetid")}
	if t := q.Get("hostedzonetype"); t != "" {
		if err := enumeration(t, "PrivateHostedZone"); err != nil {
			return result{}, err
		}
		in.PrivateOnly = true
	}
	if err := maxLength(in.Marker, 64, "PageMarker"); err != nil {
		return result{}, err
	}
	page, err := h.cloud.ListHostedZones(ctx, r.Caller, in)
	if err != nil {
		return result{}, err
	}
	out := &listHostedZonesResponse{Marker: in.Marker, IsTruncated: page.IsTruncated, NextMarker: page.NextMarker, MaxItems: echoMaxItems(q.Get("maxitems"), 100)}
	for _, z := range page.Zones {
		out.HostedZones.HostedZone = append(out.HostedZones.HostedZone, zoneOut(z))
	}
	return result{body: out}, nil
}

func (h *Handler) listHostedZonesByName(ctx context.Context, r *api.Request, _ string) (result, error) {
	q := r.HTTP.URL.Query()
	n, err := maxItems(q.Get("maxitems"))
	if err != nil {
		return result{}, err
	}
	in := core.ListHostedZonesByNameInput{DNSName: q.Get("dnsname"), HostedZoneID: q.Get("hostedzoneid"), MaxItems: n}
	if err := firstErr(maxLength(in.DNSName, 1024, "DNSName"), maxLength(in.HostedZoneID, 32, "ResourceId")); err != nil {
		return result{}, err
	}
	page, err := h.cloud.ListHostedZonesByName(ctx, r.Caller, in)
	if err != nil {
		return result{}, err
	}
	out := &listHostedZonesByNameResponse{
		DNSName: in.DNSName, HostedZoneID: in.HostedZoneID, IsTruncated: page.IsTruncated,
		NextDNSName: page.NextDNSName, NextHostedZoneID: page.NextHostedZoneID, MaxItems: echoMaxItems(q.Get("maxitems"), 100),
	}
	for _, z := range page.Zones {
		out.HostedZones.HostedZone = append(out.HostedZones.HostedZone, zoneOut(z))
	}
	return result{body: out}, nil
}

func (h *Handler) deleteHostedZone(ctx context.Context, r *api.Request, id string) (result, error) {
	change, err := h.cloud.DeleteHostedZone(ctx, r.Caller, id)
	if err != nil {
		return result{}, err
	}
	return result{body: &deleteHostedZoneResponse{ChangeInfo: changeOut(change)}}, nil
}

func (h *Handler) getChange(ctx context.Context, r *api.Request, id string) (result, error) {
	change, err := h.cloud.GetChange(ctx, r.Caller, id)
	if err != nil {
		return result{}, err
	}
	return result{body: &getChangeResponse{ChangeInfo: changeOut(change)}}, nil
}

func (h *Handler) associateVPC(ctx context.Context, r *api.Request, id string) (result, error) {
	var req associateVPCRequest
	if err := decodeBody(r.Body, &req); err != nil {
		return result{}, err
	}
	vpc, comment, err := vpcChange("AssociateVPCWithHostedZoneRequest", req.VPC, req.Comment)
	if err != nil {
		return result{}, err
	}
	change, err := h.cloud.AssociateVPCWithHostedZone(ctx, r.Caller, id, vpc, comment)
	if err != nil {
		return result{}, err
	}
	return result{body: &associateVPCResponse{ChangeInfo: changeOut(change)}}, nil
}

func (h *Handler) disassociateVPC(ctx context.Context, r *api.Request, id string) (result, error) {
	var req disassociateVPCRequest
	if err := decodeBody(r.Body, &req); err != nil {
		return result{}, err
	}
	vpc, comment, err := vpcChange("DisassociateVPCFromHostedZoneRequest", req.VPC, req.Comment)
	if err != nil {
		return result{}, err
	}
	change, err := h.cloud.DisassociateVPCFromHostedZone(ctx, r.Caller, id, vpc, comment)
	if err != nil {
		return result{}, err
	}
	return result{body: &disassociateVPCResponse{ChangeInfo: changeOut(change)}}, nil
}

// vpcChange checks the members of an association request.
func vpcChange(shape string, v *vpcIn, comment *string) (core.ZoneVPC, string, error) {
	if v == nil {
		return core.ZoneVPC{}, "", required(shape, "VPC")
	}
	vpc, err := vpcFrom(v)
	return vpc, deref(comment), err
}
