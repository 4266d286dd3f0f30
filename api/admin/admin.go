// Package admin is privlink's own small API, the "privlink" service: what
// the AWS APIs have no words for (creating accounts, finding the network
// namespace of a lab instance for `privlink exec`, explaining why a flow is
// dropped for `privlink explain`). It speaks AWS JSON 1.1 —
// POST with X-Amz-Target "PrivlinkAdmin.<Action>", JSON in and out, errors
// as {"__type": code, "message": …} — so that it is signed and routed like
// every other service. The package holds both the handler and its client.
package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/explain"
)

// Wire names of the service.
const (
	// Service is the SigV4 signing name the server routes on.
	Service = "privlink"
	// TargetPrefix is the X-Amz-Target prefix, before ".<Action>".
	TargetPrefix = "PrivlinkAdmin"
	// ContentType is AWS JSON 1.1's media type.
	ContentType = "application/x-amz-json-1.1"
)

// Accounts creates accounts. *core.Cloud implements it.
type Accounts interface {
	CreateAccount(ctx context.Context, caller core.Caller) (core.NewAccount, error)
}

// LabInstances finds lab instances that a caller owns. An instance that
// does not exist or is not the caller's is a *core.Error of KindNotFound.
type LabInstances interface {
	LabInstance(ctx context.Context, caller core.Caller, instanceID string) (namespace, state string, err error)
}

// Snapshots reads the whole state in one consistent read, for
// ExplainFlow. *core.Cloud implements it.
type Snapshots interface {
	LoadSnapshot(ctx context.Context) (*core.Snapshot, error)
}

// Account is CreateAccount's output: the new account and its first key.
type Account struct {
	AccountID       string `json:"AccountId"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// LabInstance is DescribeLabInstance's output.
type LabInstance struct {
	InstanceID string `json:"InstanceId"`
	// Namespace is the name of the instance's network namespace.
	Namespace string `json:"Namespace"`
	State     string `json:"State"`
}

type describeLabInstanceInput struct {
	InstanceID string `json:"InstanceId"`
}

// errorBody is AWS JSON's error shape.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// Handler serves the privlink service.
type Handler struct {
	accounts  Accounts
	lab       LabInstances // nil when the server runs without the lab
	snapshots Snapshots    // nil when accounts cannot load snapshots
	log       *slog.Logger
}

// NewHandler returns the handler. lab may be nil (a server without the
// lab), and then DescribeLabInstance fails. ExplainFlow is served when
// accounts also implements Snapshots, as *core.Cloud does.
func NewHandler(accounts Accounts, lab LabInstances, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	snapshots, _ := accounts.(Snapshots)
	return &Handler{accounts: accounts, lab: lab, snapshots: snapshots, log: log}
}

// Handle implements api.Handler.
func (h *Handler) Handle(w http.ResponseWriter, r *api.Request) {
	if r.HTTP.Method != http.MethodPost {
		h.WriteError(w, r.ID, core.Errorf(core.KindInvalid, "UnknownOperationException",
			"The privlink API takes POST requests, not %s", r.HTTP.Method))
		return
	}
	prefix, op, _ := strings.Cut(r.HTTP.Header.Get("X-Amz-Target"), ".")
	if prefix != TargetPrefix {
		h.WriteError(w, r.ID, core.Errorf(core.KindInvalid, "UnknownOperationException",
			"X-Amz-Target must be %s.<Action>", TargetPrefix))
		return
	}
	var out any
	var err error
	switch op {
	case "CreateAccount":
		out, err = h.createAccount(r)
	case "DescribeLabInstance":
		out, err = h.describeLabInstance(r)
	case "ExplainFlow":
		out, err = h.explainFlow(r)
	default:
		err = core.Errorf(core.KindInvalid, "UnknownOperationException", "Unknown operation %q", op)
	}
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Write(body)
}

func (h *Handler) createAccount(r *api.Request) (Account, error) {
	if err := decode(r.Body, &struct{}{}); err != nil {
		return Account{}, err
	}
	a, err := h.accounts.CreateAccount(r.HTTP.Context(), r.Caller)
	if err != nil {
		return Account{}, err
	}
	return Account{AccountID: a.Account.ID, AccessKeyID: a.AccessKey.ID, SecretAccessKey: a.AccessKey.Secret}, nil
}

func (h *Handler) describeLabInstance(r *api.Request) (LabInstance, error) {
	var in describeLabInstanceInput
	if err := decode(r.Body, &in); err != nil {
		return LabInstance{}, err
	}
	if in.InstanceID == "" {
		return LabInstance{}, core.Errorf(core.KindInvalid, "ValidationException", "InstanceId is required")
	}
	if h.lab == nil {
		return LabInstance{}, core.Errorf(core.KindConflict, "LabUnavailable",
			"This privlink server runs without the lab (--no-lab); instances have no namespaces")
	}
	ns, state, err := h.lab.LabInstance(r.HTTP.Context(), r.Caller, in.InstanceID)
	if err != nil {
		return LabInstance{}, err
	}
	return LabInstance{InstanceID: in.InstanceID, Namespace: ns, State: state}, nil
}

// explainFlow says whether a new flow gets through and which rule or
// state stops it, as the caller's account may see it: the caller must own
// the flow's source or its endpoint, and other accounts' objects on the
// path are described without their IDs.
func (h *Handler) explainFlow(r *api.Request) (explain.Result, error) {
	var in explain.Query
	if err := decode(r.Body, &in); err != nil {
		return explain.Result{}, err
	}
	if h.snapshots == nil {
		return explain.Result{}, core.Errorf(core.KindConflict, "ExplainUnavailable", "This privlink server cannot explain flows")
	}
	s, err := h.snapshots.LoadSnapshot(r.HTTP.Context())
	if err != nil {
		return explain.Result{}, fmt.Errorf("explain flow: load state: %w", err)
	}
	in.Viewer = r.Caller.AccountID
	res, err := explain.Flow(s, in)
	if err != nil {
		return explain.Result{}, err
	}
	h.log.Debug("explained flow", "request", r.ID, "account", r.Caller.AccountID,
		"source", res.Source, "destination", res.Destination, "verdict", res.Verdict, "decidedBy", res.DecidedBy)
	return res, nil
}

// decode reads a JSON object; an empty body is an empty object, as AWS JSON
// services accept.
func decode(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return core.Errorf(core.KindInvalid, "SerializationException", "The request body is not a valid JSON object of the expected shape")
	}
	return nil
}

// WriteError implements api.Handler: AWS JSON's error body, with the status
// from apierr's table.
func (h *Handler) WriteError(w http.ResponseWriter, requestID string, err error) {
	wire := apierr.Resolve(h.log, requestID, apierr.JSON, err)
	body, _ := json.Marshal(errorBody{Type: wire.Code, Message: wire.Message})
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("X-Amzn-Errortype", wire.Code)
	w.WriteHeader(wire.Status)
	w.Write(body)
}
