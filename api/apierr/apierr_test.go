package apierr

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/core"
)

func TestResolve(t *testing.T) {
	notFound := core.Errorf(core.KindNotFound, "InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist")
	forbidden := core.Errorf(core.KindForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	cases := []struct {
		name       string
		family     Family
		err        error
		wantStatus int
		wantCode   string
	}{
		{"ec2 not found", EC2, notFound, 400, "InvalidVpcID.NotFound"},
		{"ec2 wrapped not found", EC2, fmt.Errorf("describe: %w", notFound), 400, "InvalidVpcID.NotFound"},
		{"ec2 invalid", EC2, core.Errorf(core.KindInvalid, "InvalidParameterValue", "x"), 400, "InvalidParameterValue"},
		{"ec2 conflict", EC2, core.Errorf(core.KindConflict, "DependencyViolation", "x"), 400, "DependencyViolation"},
		{"ec2 limit", EC2, core.Errorf(core.KindLimit, "VpcLimitExceeded", "x"), 400, "VpcLimitExceeded"},
		{"ec2 forbidden", EC2, forbidden, 403, "UnauthorizedOperation"},
		{"ec2 unauthenticated", EC2, core.Errorf(core.KindUnauthenticated, "AuthFailure", "x"), 401, "AuthFailure"},
		{"ec2 signature", EC2, core.Errorf(core.KindUnauthenticated, "SignatureDoesNotMatch", "x"), 403, "SignatureDoesNotMatch"},
		{"ec2 expired", EC2, core.Errorf(core.KindUnauthenticated, "RequestExpired", "x"), 400, "RequestExpired"},
		{"ec2 too large", EC2, core.Errorf(core.KindInvalid, CodeTooLarge, "x"), 413, CodeTooLarge},
		{"ec2 internal kind", EC2, core.Errorf(core.KindInternal, "InternalError", "store said no"), 500, "InternalError"},
		{"ec2 plain error", EC2, errors.New("etcd: connection refused"), 500, "InternalError"},
		{"ec2 nil", EC2, nil, 500, "InternalError"},
		{"query not found", Query, core.Errorf(core.KindNotFound, "LoadBalancerNotFound", "x"), 400, "LoadBalancerNotFound"},
		{"query forbidden", Query, forbidden, 403, "UnauthorizedOperation"},
		{"query unauthenticated", Query, core.Errorf(core.KindUnauthenticated, "InvalidClientTokenId", "x"), 403, "InvalidClientTokenId"},
		{"query incomplete", Query, core.Errorf(core.KindUnauthenticated, "IncompleteSignature", "x"), 400, "IncompleteSignature"},
		{"query plain error", Query, errors.New("boom"), 500, "InternalFailure"},
		{"json forbidden", JSON, core.Errorf(core.KindForbidden, "AccessDenied", "x"), 400, "AccessDenied"},
		{"json unauthenticated", JSON, core.Errorf(core.KindUnauthenticated, "UnrecognizedClientException", "x"), 400, "UnrecognizedClientException"},
		{"json plain error", JSON, errors.New("boom"), 500, "InternalFailure"},
		{"unknown family is query", Family(99), forbidden, 403, "UnauthorizedOperation"},
		{"restxml not found", RESTXML, core.Errorf(core.KindNotFound, "NoSuchHostedZone", "x"), 404, "NoSuchHostedZone"},
		{"restxml invalid", RESTXML, core.Errorf(core.KindInvalid, "InvalidChangeBatch", "x"), 400, "InvalidChangeBatch"},
		{"restxml caller reference", RESTXML, core.Errorf(core.KindConflict, "HostedZoneAlreadyExists", "x"), 409, "HostedZoneAlreadyExists"},
		{"restxml not empty", RESTXML, core.Errorf(core.KindConflict, "HostedZoneNotEmpty", "x"), 400, "HostedZoneNotEmpty"},
		{"restxml delegation set", RESTXML, core.Errorf(core.KindInvalid, "NoSuchDelegationSet", "x"), 400, "NoSuchDelegationSet"},
		{"restxml plain error", RESTXML, errors.New("boom"), 500, "InternalFailure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			w := Resolve(log, "req-1", tc.family, tc.err)
			if w.Status != tc.wantStatus || w.Code != tc.wantCode {
				t.Fatalf("Resolve = %d %s, want %d %s", w.Status, w.Code, tc.wantStatus, tc.wantCode)
			}
			if w.Status == 500 {
				// The internal text goes to the log, never to the client.
				if tc.err != nil && strings.Contains(w.Message, tc.err.Error()) {
					t.Errorf("message %q leaks the internal error", w.Message)
				}
				if !strings.Contains(logs.String(), "request_id=req-1") {
					t.Errorf("internal error not logged with the request ID: %q", logs.String())
				}
			} else {
				if logs.Len() != 0 {
					t.Errorf("client error was logged: %q", logs.String())
				}
				var e *core.Error
				errors.As(tc.err, &e)
				if w.Message != e.Message {
					t.Errorf("message %q, want %q", w.Message, e.Message)
				}
			}
		})
	}
}

// TestAuth pins the codes and statuses each family answers authentication
// failures with, as AWS's services do.
func TestAuth(t *testing.T) {
	cases := []struct {
		family     Family
		reason     sigv4.Reason
		wantStatus int
		wantCode   string
	}{
		{EC2, sigv4.Missing, 401, "MissingAuthenticationToken"},
		{EC2, sigv4.Malformed, 400, "IncompleteSignature"},
		{EC2, sigv4.UnknownKey, 401, "AuthFailure"},
		{EC2, sigv4.Mismatch, 403, "SignatureDoesNotMatch"},
		{EC2, sigv4.Expired, 400, "RequestExpired"},
		{EC2, sigv4.NotYetValid, 400, "RequestExpired"},
		{Query, sigv4.Missing, 403, "MissingAuthenticationToken"},
		{Query, sigv4.Malformed, 400, "IncompleteSignature"},
		{Query, sigv4.UnknownKey, 403, "InvalidClientTokenId"},
		{Query, sigv4.Mismatch, 403, "SignatureDoesNotMatch"},
		{Query, sigv4.Expired, 403, "SignatureDoesNotMatch"},
		{Query, sigv4.NotYetValid, 403, "SignatureDoesNotMatch"},
		{JSON, sigv4.Missing, 400, "MissingAuthenticationTokenException"},
		{JSON, sigv4.Malformed, 400, "IncompleteSignatureException"},
		{JSON, sigv4.UnknownKey, 400, "UnrecognizedClientException"},
		{JSON, sigv4.Mismatch, 400, "InvalidSignatureException"},
		{JSON, sigv4.Expired, 400, "InvalidSignatureException"},
		{RESTXML, sigv4.Missing, 403, "MissingAuthenticationToken"},
		{RESTXML, sigv4.Malformed, 400, "IncompleteSignature"},
		{RESTXML, sigv4.UnknownKey, 403, "InvalidClientTokenId"},
		{RESTXML, sigv4.Mismatch, 403, "SignatureDoesNotMatch"},
	}
	for _, tc := range cases {
		t.Run(tc.family.String()+"/"+tc.reason.String(), func(t *testing.T) {
			src := &sigv4.Error{Reason: tc.reason, Message: "Signature expired: 20150830T123600Z is now earlier than …"}
			err := Auth(tc.family, src)
			if !core.IsKind(err, core.KindUnauthenticated) {
				t.Fatalf("Auth returned %v, want a KindUnauthenticated *core.Error", err)
			}
			w := Resolve(nil, "r", tc.family, err)
			if w.Status != tc.wantStatus || w.Code != tc.wantCode {
				t.Fatalf("wire %d %s, want %d %s", w.Status, w.Code, tc.wantStatus, tc.wantCode)
			}
			if w.Message == "" {
				t.Error("empty message")
			}
		})
	}
	t.Run("query keeps AWS's expiry text", func(t *testing.T) {
		msg := "Signature expired: 20150830T123600Z is now earlier than 20150830T130100Z (20150830T131600Z - 15 min.)"
		w := Resolve(nil, "r", Query, Auth(Query, &sigv4.Error{Reason: sigv4.Expired, Message: msg}))
		if w.Message != msg {
			t.Errorf("message %q, want %q", w.Message, msg)
		}
	})
	t.Run("not a sigv4 error", func(t *testing.T) {
		plain := errors.New("store down")
		if got := Auth(EC2, plain); got != plain {
			t.Errorf("Auth changed a plain error into %v", got)
		}
	})
}

func TestFamilyOf(t *testing.T) {
	for service, want := range map[string]Family{
		"ec2": EC2, "elasticloadbalancing": Query, "privlink": JSON, "sts": Query, "route53": RESTXML,
	} {
		if got := FamilyOf(service); got != want {
			t.Errorf("FamilyOf(%q) = %v, want %v", service, got, want)
		}
	}
}
