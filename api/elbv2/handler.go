package elbv2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/api/query"
	"github.com/privlink/privlink/core"
)

// Handler serves the ELBv2 actions generated in zz_shapes.go and those of
// listenerattrs.go. For each request it
//
//  1. reads the parameters from the URL query and a form body;
//  2. looks the Action up (InvalidAction when it asks for another API
//     version, such as classic load balancers' 2012-06-01, or is not served);
//  3. decodes the parameters into the generated input (ValidationError, in
//     AWS's "N validation errors detected" style, when they do not fit);
//  4. converts the input to core's, calls core as the request's caller, and
//     converts the answer back;
//  5. writes the awsquery response, or the error through apierr.
//
// It checks only what the protocol defines (shapes, required members,
// paging); the rules of load balancing are core's.
type Handler struct {
	cloud *core.Cloud
	log   *slog.Logger
}

var _ api.Handler = (*Handler)(nil)

// New returns the handler of the "elasticloadbalancing" signing name. log
// may be nil.
func New(cloud *core.Cloud, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cloud: cloud, log: log}
}

// Handle implements api.Handler.
func (h *Handler) Handle(w http.ResponseWriter, r *api.Request) {
	form, err := r.Form()
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	action := form.Get("Action")
	// Classic load balancers share the signing name; their API version
	// must not be read as ELBv2's.
	if v := form.Get("Version"); action != "" && v != "" && v != APIVersion {
		h.WriteError(w, r.ID, core.Errorf(core.KindInvalid, "InvalidAction",
			"The action %s is not valid for API version %s: privlink serves Elastic Load Balancing version %s (elbv2) only", action, v, APIVersion))
		return
	}
	op, ok := lookupOperation(action)
	if !ok {
		h.WriteError(w, r.ID, invalidAction(action))
		return
	}
	in, err := op.DecodeInput(form)
	if err != nil {
		h.WriteError(w, r.ID, decodeError(op.Name, err))
		return
	}
	out, err := h.call(r.HTTP.Context(), r.Caller, op.Name, in)
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	if err := op.WriteResponse(w, r.ID, out); err != nil {
		h.WriteError(w, r.ID, fmt.Errorf("elbv2: write %s response: %w", op.Name, err))
	}
}

// WriteError implements api.Handler: an awsquery <ErrorResponse> whose
// status, code and message come from apierr.
func (h *Handler) WriteError(w http.ResponseWriter, requestID string, err error) {
	wire := apierr.Resolve(h.log, requestID, apierr.Query, err)
	fault := query.Sender
	if wire.Status >= http.StatusInternalServerError {
		fault = query.Receiver
	}
	query.WriteQueryError(w, wire.Status, XMLNamespace, requestID, fault, wire.Code, wire.Message)
}

// call runs one decoded action. in is the pointer LookupOperation's
// NewInput returned; the output is the matching NewOutput type.
func (h *Handler) call(ctx context.Context, caller core.Caller, action string, in any) (any, error) {
	switch action {
	case "CreateLoadBalancer":
		return run(ctx, caller, in, h.createLoadBalancer)
	case "DescribeLoadBalancers":
		return run(ctx, caller, in, h.describeLoadBalancers)
	case "DeleteLoadBalancer":
		return run(ctx, caller, in, h.deleteLoadBalancer)
	case "CreateTargetGroup":
		return run(ctx, caller, in, h.createTargetGroup)
	case "DescribeTargetGroups":
		return run(ctx, caller, in, h.describeTargetGroups)
	case "DeleteTargetGroup":
		return run(ctx, caller, in, h.deleteTargetGroup)
	case "RegisterTargets":
		return run(ctx, caller, in, h.registerTargets)
	case "DeregisterTargets":
		return run(ctx, caller, in, h.deregisterTargets)
	case "DescribeTargetHealth":
		return run(ctx, caller, in, h.describeTargetHealth)
	case "CreateListener":
		return run(ctx, caller, in, h.createListener)
	case "DescribeListeners":
		return run(ctx, caller, in, h.describeListeners)
	case "DeleteListener":
		return run(ctx, caller, in, h.deleteListener)
	case "ModifyTargetGroup":
		return run(ctx, caller, in, h.modifyTargetGroup)
	case "DescribeTargetGroupAttributes":
		return run(ctx, caller, in, h.describeTargetGroupAttributes)
	case "ModifyTargetGroupAttributes":
		return run(ctx, caller, in, h.modifyTargetGroupAttributes)
	case "DescribeLoadBalancerAttributes":
		return run(ctx, caller, in, h.describeLoadBalancerAttributes)
	case "ModifyLoadBalancerAttributes":
		return run(ctx, caller, in, h.modifyLoadBalancerAttributes)
	case "DescribeListenerAttributes":
		return run(ctx, caller, in, h.describeListenerAttributes)
	case "ModifyListenerAttributes":
		return run(ctx, caller, in, h.modifyListenerAttributes)
	}
	return nil, fmt.Errorf("elbv2: generated operation %s has no handler", action)
}

// run calls fn with in as its input type. A mismatch is a bug in call's
// table, reported as an internal error rather than a panic.
func run[I, O any](ctx context.Context, caller core.Caller, in any, fn func(context.Context, core.Caller, *I) (*O, error)) (any, error) {
	typed, ok := in.(*I)
	if !ok {
		return nil, fmt.Errorf("elbv2: input is %T, want %T", in, typed)
	}
	out, err := fn(ctx, caller, typed)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func invalidAction(action string) error {
	if action == "" {
		return core.Errorf(core.KindInvalid, "MissingAction", "The request must contain the parameter Action")
	}
	return core.Errorf(core.KindInvalid, "InvalidAction", "The action %s is not valid for this web service.", action)
}

// decodeError turns the codec's errors into ELBv2's ValidationError. An
// unknown parameter is reported on its own; invalid and missing values are
// listed as AWS lists constraint violations, with member paths such as
// 'targets.1.member.id'.
func decodeError(action string, err error) error {
	var des query.DecodeErrors
	if !errors.As(err, &des) || len(des) == 0 {
		return fmt.Errorf("elbv2: decode %s: %w", action, err)
	}
	if des[0].Kind == query.UnknownParameter {
		return validation("%s", des[0].Error())
	}
	msgs := make([]string, 0, len(des))
	for _, de := range des {
		path := memberPath(de.Param)
		switch de.Kind {
		case query.MissingParameter:
			msgs = append(msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
		default:
			msgs = append(msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", clip(de.Value), path, de.Reason))
		}
	}
	return validationErrors(msgs...)
}

// validationErrors formats constraint violations as AWS does: "1
// validation error detected: …" or "2 validation errors detected: …; …".
func validationErrors(msgs ...string) error {
	noun := "errors"
	if len(msgs) == 1 {
		noun = "error"
	}
	return validation("%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; "))
}

func validation(format string, args ...any) error {
	return core.Errorf(core.KindInvalid, "ValidationError", format, args...)
}

// memberPath turns a parameter name into the member path of AWS's
// validation messages: "Targets.member.1.Id" becomes "targets.1.member.id".
func memberPath(param string) string {
	segs := strings.Split(param, ".")
	out := make([]string, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		if (s == "member" || s == "entry") && i+1 < len(segs) && isDigits(segs[i+1]) {
			out = append(out, segs[i+1], s)
			i++
			continue
		}
		out = append(out, lowerFirst(s))
	}
	return strings.Join(out, ".")
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clip shortens a client's value quoted back in a message.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
