package ec2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/core"
)

// Handler serves the EC2 Query API. For each request it
//
//  1. reads the form: the POST body (application/x-www-form-urlencoded)
//     and the URL query;
//  2. looks the Action up among the generated operations;
//  3. decodes the input with the codec, refusing unknown, invalid and
//     missing parameters as EC2 does;
//  4. answers DryRun requests with DryRunOperation and refuses filters
//     where privlink does not implement them yet;
//  5. calls core as the signing account and encodes the result.
//
// It knows EC2's wire rules, not its business rules: those are core's.
type Handler struct {
	cloud *core.Cloud
	log   *slog.Logger
	// actions are the operations by Action name; never changed after New.
	actions map[string]action
}

// action runs one operation: in is the decoded input (a pointer to the
// generated request struct) and the result is the output to encode, nil for
// operations that answer only <return>true</return>. done, when not nil,
// is called once the output is written: the output's memory may be reused
// after it.
type action func(ctx context.Context, caller core.Caller, in any) (out any, done func(), err error)

// bind adapts a typed operation to an action.
func bind[I any](f func(ctx context.Context, caller core.Caller, in *I) (any, error)) action {
	return func(ctx context.Context, caller core.Caller, in any) (any, func(), error) {
		out, err := f(ctx, caller, in.(*I))
		return out, nil, err
	}
}

// bindReused adapts a typed operation whose output lives in memory it
// reuses once the output is written.
func bindReused[I any](f func(ctx context.Context, caller core.Caller, in *I) (any, func(), error)) action {
	return func(ctx context.Context, caller core.Caller, in any) (any, func(), error) {
		return f(ctx, caller, in.(*I))
	}
}

var _ api.Handler = (*Handler)(nil)

// New returns the EC2 handler over cloud. log may be nil.
func New(cloud *core.Cloud, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cloud: cloud, log: log}
	h.actions = map[string]action{
		"CreateVpc":                                bind(h.createVpc),
		"DescribeVpcs":                             bind(h.describeVpcs),
		"DeleteVpc":                                bind(h.deleteVpc),
		"CreateSubnet":                             bind(h.createSubnet),
		"DescribeSubnets":                          bind(h.describeSubnets),
		"DeleteSubnet":                             bind(h.deleteSubnet),
		"CreateSecurityGroup":                      bind(h.createSecurityGroup),
		"DescribeSecurityGroups":                   bind(h.describeSecurityGroups),
		"AuthorizeSecurityGroupIngress":            bind(h.authorizeSecurityGroupIngress),
		"RevokeSecurityGroupIngress":               bind(h.revokeSecurityGroupIngress),
		"DeleteSecurityGroup":                      bind(h.deleteSecurityGroup),
		"RunInstances":                             bind(h.runInstances),
		"DescribeInstances":                        bind(h.describeInstances),
		"TerminateInstances":                       bind(h.terminateInstances),
		"DescribeAvailabilityZones":                bind(h.describeAvailabilityZones),
		"DescribeRegions":                          bind(h.describeRegions),
		"DescribeNetworkInterfaces":                bind(h.describeNetworkInterfaces),
		"CreateVpcEndpointServiceConfiguration":    bind(h.createVpcEndpointServiceConfiguration),
		"DescribeVpcEndpointServiceConfigurations": bind(h.describeVpcEndpointServiceConfigurations),
		"DeleteVpcEndpointServiceConfigurations":   bind(h.deleteVpcEndpointServiceConfigurations),
		"ModifyVpcEndpointServicePermissions":      bind(h.modifyVpcEndpointServicePermissions),
		"DescribeVpcEndpointServicePermissions":    bind(h.describeVpcEndpointServicePermissions),
		"DescribeVpcEndpointServices":              bind(h.describeVpcEndpointServices),
		"CreateVpcEndpoint":                        bind(h.createVpcEndpoint),
		"DescribeVpcEndpoints":                     bindReused(h.describeVpcEndpoints),
		"DeleteVpcEndpoints":                       bind(h.deleteVpcEndpoints),
		"AcceptVpcEndpointConnections":             bind(h.acceptVpcEndpointConnections),
		"RejectVpcEndpointConnections":             bind(h.rejectVpcEndpointConnections),
		"DescribeVpcEndpointConnections":           bind(h.describeVpcEndpointConnections),
		"ModifyVpcEndpoint":                        bind(h.modifyVpcEndpoint),
		"AuthorizeSecurityGroupEgress":             bind(h.authorizeSecurityGroupEgress),
		"RevokeSecurityGroupEgress":                bind(h.revokeSecurityGroupEgress),
		"DescribeSecurityGroupRules":               bind(h.describeSecurityGroupRules),
		"ModifyVpcAttribute":                       bind(h.modifyVpcAttribute),
		"DescribeVpcAttribute":                     bind(h.describeVpcAttribute),
		"ModifyNetworkInterfaceAttribute":          bind(h.modifyNetworkInterfaceAttribute),

		// A service's own changes and the proof of its private DNS name.
		"ModifyVpcEndpointServiceConfiguration":         bind(h.modifyVpcEndpointServiceConfiguration),
		"StartVpcEndpointServicePrivateDnsVerification": bind(h.startVpcEndpointServicePrivateDnsVerification),
	}
	return h
}

// Handle implements api.Handler.
func (h *Handler) Handle(w http.ResponseWriter, r *api.Request) {
	form, err := r.Form()
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	name := form.Get("Action")
	if name == "" {
		h.WriteError(w, r.ID, core.Errorf(core.KindInvalid, "MissingAction", "The request must contain the parameter Action"))
		return
	}
	op, ok := LookupOperation(name)
	run := h.actions[name]
	if !ok || run == nil {
		h.WriteError(w, r.ID, core.Errorf(core.KindInvalid, "InvalidAction", "The action %s is not valid for this web service.", truncate(name, 128)))
		return
	}
	in, err := op.DecodeInput(form)
	if err != nil {
		h.WriteError(w, r.ID, decodeError(name, err))
		return
	}
	if dryRun(in) {
		// AWS answers a dry run that would have succeeded with an error
		// document and 412, which apierr's kinds do not express.
		query.WriteEC2Error(w, http.StatusPreconditionFailed, r.ID, "DryRunOperation",
			"Request would have succeeded, but DryRun flag is set.")
		return
	}
	if err := refuseFilters(name, in); err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	ctx := context.Background()
	if r.HTTP != nil {
		ctx = r.HTTP.Context()
	}
	out, done, err := run(ctx, r.Caller, in)
	if done != nil {
		defer done()
	}
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	if err := op.WriteResponse(w, r.ID, out); err != nil {
		h.WriteError(w, r.ID, fmt.Errorf("ec2: encode %s: %w", name, err))
	}
}

// WriteError implements api.Handler: an EC2 <Response><Errors> document
// with the status, code and message apierr resolves err to.
func (h *Handler) WriteError(w http.ResponseWriter, requestID string, err error) {
	wire := apierr.Resolve(h.log, requestID, apierr.EC2, err)
	query.WriteEC2Error(w, wire.Status, requestID, wire.Code, wire.Message)
}

// decodeError turns the codec's first complaint into EC2's error.
func decodeError(action string, err error) error {
	var de *query.DecodeError
	if !errors.As(err, &de) {
		return fmt.Errorf("ec2: decode %s: %w", action, err)
	}
	code := "InvalidParameterValue"
	switch de.Kind {
	case query.UnknownParameter:
		code = "UnknownParameter"
	case query.MissingParameter:
		code = "MissingParameter"
	}
	return core.Errorf(core.KindInvalid, code, "%s", de.Error())
}

// dryRun reports whether the decoded input asks for a dry run. Every EC2
// operation has a DryRun member.
func dryRun(in any) bool {
	v := reflect.ValueOf(in).Elem().FieldByName("DryRun")
	return v.IsValid() && v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Bool()
}

// refuseFilters refuses a request with filters to an operation that does
// not apply them itself: answering unfiltered would mislead the client.
func refuseFilters(action string, in any) error {
	if filtersApplied(action) {
		return nil
	}
	v := reflect.ValueOf(in).Elem().FieldByName("Filters")
	if !v.IsValid() || v.Len() == 0 {
		return nil
	}
	filters, _ := v.Interface().([]Filter)
	name := ""
	if len(filters) > 0 {
		name = deref(filters[0].Name)
	}
	return core.Errorf(core.KindInvalid, "UnsupportedOperation",
		"The filter '%s' is not supported: privlink does not implement Filter for %s yet. Name resources by ID instead.", name, action)
}

// filtersApplied reports whether the operation applies its filters itself.
func filtersApplied(action string) bool {
	return action == "DescribeSecurityGroupRules"
}
