package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/privlink/privlink/api/sigv4"
	"github.com/privlink/privlink/explain"
)

// Client calls the privlink service of a server, signing with SigV4.
type Client struct {
	// Endpoint is the server's URL, e.g. "http://127.0.0.1:4580".
	Endpoint string
	// Region goes into the credential scope; empty means "us-east-1".
	Region    string
	AccessKey string
	SecretKey string
	// HTTP is the client to send with; nil means http.DefaultClient.
	HTTP *http.Client
}

// Error is an error the server answered with. It prints as "Code: message".
type Error struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// maxResponse caps what the client reads of a response.
const maxResponse = 1 << 20

// CreateAccount creates an account with a first access key. The caller's
// account must be an administrator.
func (c *Client) CreateAccount(ctx context.Context) (Account, error) {
	var out Account
	err := c.call(ctx, "CreateAccount", struct{}{}, &out)
	return out, err
}

// DescribeLabInstance returns the network namespace and state of a lab
// instance that the caller owns.
func (c *Client) DescribeLabInstance(ctx context.Context, instanceID string) (LabInstance, error) {
	var out LabInstance
	err := c.call(ctx, "DescribeLabInstance", describeLabInstanceInput{InstanceID: instanceID}, &out)
	return out, err
}

// ExplainFlow says whether a new TCP flow from a source to an endpoint and
// port gets through and, if not, which rule or state stops it. The caller
// must own the source or the endpoint.
func (c *Client) ExplainFlow(ctx context.Context, q explain.Query) (explain.Result, error) {
	var out explain.Result
	err := c.call(ctx, "ExplainFlow", q, &out)
	return out, err
}

func (c *Client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("privlink %s: %w", op, err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.Endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("privlink %s: %w", op, err)
	}
	r.Header.Set("Content-Type", ContentType)
	r.Header.Set("X-Amz-Target", TargetPrefix+"."+op)
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	creds := sigv4.Credentials{AccessKey: c.AccessKey, SecretKey: c.SecretKey}
	if err := sigv4.Sign(r, body, creds, region, Service, time.Now()); err != nil {
		return fmt.Errorf("privlink %s: %w", op, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(r)
	if err != nil {
		return fmt.Errorf("privlink %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("privlink %s: read response: %w", op, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("privlink %s: decode response: %w", op, err)
	}
	return nil
}

// decodeError turns an error response into an *Error. A body that is not
// AWS JSON (a proxy's page, say) still yields the status.
func decodeError(resp *http.Response, data []byte) error {
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	var b errorBody
	if json.Unmarshal(data, &b) == nil && b.Type != "" {
		e.Code, e.Message = trimErrorType(b.Type), b.Message
		return e
	}
	e.Code = strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "")
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	e.Message = strings.TrimSpace(string(data))
	if e.Message == "" {
		e.Message = resp.Status
	}
	return e
}

// trimErrorType strips the namespace ("aws.foo#Code") and the suffix
// ("Code:http://…") that AWS JSON error types may carry.
func trimErrorType(t string) string {
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		t = t[i+1:]
	}
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	return t
}
