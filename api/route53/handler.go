// Package route53 serves the Amazon Route 53 API, a rest-xml protocol: it
// routes requests by method and path, decodes their query strings and XML
// bodies into the shapes of shapes.go, calls core, and writes the XML
// answers and errors that the AWS CLI and SDKs expect.
//
// Route 53 is global: clients sign for us-east-1 whatever the region the
// server serves, and the server verifies signatures in any region.
package route53

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/privlink/privlink/api"
	"github.com/privlink/privlink/api/apierr"
	"github.com/privlink/privlink/core"
)

// Service is the SigV4 signing name the server routes to this handler.
const Service = "route53"

// Handler serves the Route 53 operations below. For each request it
//
//  1. finds the operation by method and path (/2013-04-01/hostedzone/{Id}…);
//  2. decodes the XML body, refusing what Route 53's schema refuses
//     (InvalidInput with the validator's message), and the query string;
//  3. converts the input to core's, calls core as the request's caller, and
//     converts the answer back;
//  4. writes the XML response, or the error through apierr.
//
// It checks only what the protocol defines; the rules of DNS are core's.
type Handler struct {
	cloud *core.Cloud
	log   *slog.Logger
}

var _ api.Handler = (*Handler)(nil)

// New returns the handler of the "route53" signing name. log may be nil.
func New(cloud *core.Cloud, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cloud: cloud, log: log}
}

// pathPrefix starts the path of every operation: the API version.
const pathPrefix = "/2013-04-01/"

// result is an operation's answer.
type result struct {
	status   int    // 0 means 200
	location string // the Location header, for CreateHostedZone
	body     any    // a response shape
}

// operation serves one action. id is the {Id} of the path, if any.
type operation func(h *Handler, ctx context.Context, r *api.Request, id string) (result, error)

// Handle implements api.Handler.
func (h *Handler) Handle(w http.ResponseWriter, r *api.Request) {
	op, id, err := route(r.HTTP)
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	res, err := op(h, r.HTTP.Context(), r, id)
	if err != nil {
		h.WriteError(w, r.ID, err)
		return
	}
	b, err := xml.Marshal(res.body)
	if err != nil {
		h.WriteError(w, r.ID, fmt.Errorf("route53: encode %T: %w", res.body, err))
		return
	}
	if res.location != "" {
		w.Header().Set("Location", res.location)
	}
	status := res.status
	if status == 0 {
		status = http.StatusOK
	}
	writeXML(w, status, b)
}

// WriteError implements api.Handler: Route 53's <ErrorResponse>, whose
// status, code and message come from apierr.
func (h *Handler) WriteError(w http.ResponseWriter, requestID string, err error) {
	wire := apierr.Resolve(h.log, requestID, apierr.RESTXML, err)
	writeXML(w, wire.Status, MarshalError(requestID, wire.Status, wire.Code, wire.Message))
}

// MarshalError returns Route 53's error document for a status, code and
// message: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
// InvalidChangeBatch lists its messages in Message, in brackets, as Route
// 53 sends them today (the SDKs also read an older <InvalidChangeBatch>
// document, which Route 53 no longer sends).
func MarshalError(requestID string, status int, code, message string) []byte {
	fault := "Sender"
	if status >= http.StatusInternalServerError {
		fault = "Receiver"
	}
	var b strings.Builder
	b.WriteString(`<ErrorResponse xmlns="` + XMLNamespace + `"><Error><Type>`)
	b.WriteString(fault)
	b.WriteString("</Type><Code>")
	escape(&b, code)
	b.WriteString("</Code><Message>")
	escape(&b, message)
	b.WriteString("</Message></Error><RequestId>")
	escape(&b, requestID)
	b.WriteString("</RequestId></ErrorResponse>")
	return []byte(b.String())
}

// escape writes s as XML character data as Route 53 writes messages:
// only '&', '<' and '>' (and control characters) escaped, so that quotes
// in messages read as they do on AWS.
func escape(b *strings.Builder, s string) {
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < 0x20 && r != '\t' && r != '\n':
			fmt.Fprintf(b, "&#x%X;", r)
		default:
			b.WriteRune(r)
		}
	}
}

// xmlHeader starts every document, as Route 53 writes it.
const xmlHeader = `<?xml version="1.0"?>` + "\n"

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xmlHeader))
	_, _ = w.Write(body)
}

// route finds the operation of a request and the {Id} in its path. IDs
// may carry the /hostedzone/ or /change/ prefix that responses give them.
func route(r *http.Request) (operation, string, error) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), pathPrefix)
	if !ok {
		return nil, "", unknownOperation(r)
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, "", unknownOperation(r)
		}
		segs[i] = u
	}
	// ChangeResourceRecordSets' path ends in a slash; accept it anywhere
	// after the resource, as Route 53 does.
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	m := r.Method
	var op operation
	id := ""
	switch {
	case len(segs) == 1 && segs[0] == "hostedzone":
		op = pick(m, map[string]operation{http.MethodPost: (*Handler).createHostedZone, http.MethodGet: (*Handler).listHostedZones})
	case len(segs) == 2 && segs[0] == "hostedzone":
		op = pick(m, map[string]operation{http.MethodGet: (*Handler).getHostedZone, http.MethodDelete: (*Handler).deleteHostedZone})
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "rrset":
		op = pick(m, map[string]operation{http.MethodPost: (*Handler).changeResourceRecordSets, http.MethodGet: (*Handler).listResourceRecordSets})
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "associatevpc":
		op = pick(m, map[string]operation{http.MethodPost: (*Handler).associateVPC})
	case len(segs) == 3 && segs[0] == "hostedzone" && segs[2] == "disassociatevpc":
		op = pick(m, map[string]operation{http.MethodPost: (*Handler).disassociateVPC})
	case len(segs) == 1 && segs[0] == "hostedzonesbyname":
		op = pick(m, map[string]operation{http.MethodGet: (*Handler).listHostedZonesByName})
	case len(segs) == 2 && segs[0] == "change":
		op = pick(m, map[string]operation{http.MethodGet: (*Handler).getChange})
	}
	if op == nil {
		return nil, "", unknownOperation(r)
	}
	if len(segs) > 1 {
		id = strings.TrimPrefix(strings.TrimPrefix(segs[1], "/"+segs[0]+"/"), segs[0]+"/")
		if id == "" {
			return nil, "", unknownOperation(r)
		}
		if len(id) > 32 {
			return nil, "", core.Errorf(core.KindInvalid, "InvalidInput",
				"1 validation error detected: Value '%s' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32", clip(id))
		}
	}
	return op, id, nil
}

func pick(method string, ops map[string]operation) operation { return ops[method] }

// unknownOperation answers a path or method that is no operation privlink
// serves: the rest of Route 53 (health checks, traffic policies, tags, …)
// is refused by name rather than ignored.
func unknownOperation(r *http.Request) error {
	return core.Errorf(core.KindNotFound, "UnknownOperationException",
		"privlink does not serve the Route 53 operation %s %s", r.Method, r.URL.Path)
}

// Conversions shared by the operations.

func zoneOut(z core.HostedZone) hostedZone {
	return hostedZone{
		ID: "/hostedzone/" + z.ID, Name: z.Name, CallerReference: z.CallerReference,
		Config:                 hostedZoneConf{Comment: z.Comment, PrivateZone: z.Private},
		ResourceRecordSetCount: z.RecordSetCount,
	}
}

func changeOut(c core.ChangeInfo) changeInfo {
	return changeInfo{ID: "/change/" + c.ID, Status: c.Status, SubmittedAt: timestamp(c.SubmittedAt), Comment: c.Comment}
}

// timestamp is Route 53's form of a time: ISO 8601 in UTC, to the
// millisecond.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
