package dataplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestHealthTransitions(t *testing.T) {
	refused := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	timeout := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	hc := HealthCheck{HealthyThreshold: 3, UnhealthyThreshold: 2}
	for _, tc := range []struct {
		name    string
		results []error // nil is a success
		want    []string
	}{
		{"stays initial below the healthy threshold", []error{nil, nil}, nil},
		{"initial to healthy", []error{nil, nil, nil}, []string{"healthy/"}},
		{"initial to unhealthy", []error{refused, refused}, []string{"unhealthy/Target.FailedHealthChecks"}},
		{"a timeout says so", []error{timeout, timeout}, []string{"unhealthy/Target.Timeout"}},
		{"the reason follows the latest failure", []error{refused, refused, timeout}, []string{"unhealthy/Target.FailedHealthChecks", "unhealthy/Target.Timeout"}},
		{"failures must be consecutive", []error{refused, nil, refused, nil, nil, nil}, []string{"healthy/"}},
		{"successes must be consecutive", []error{nil, nil, refused, nil, nil, refused, refused}, []string{"unhealthy/Target.FailedHealthChecks"}},
		{"healthy to unhealthy and back", []error{nil, nil, nil, refused, refused, nil, nil, nil}, []string{"healthy/", "unhealthy/Target.FailedHealthChecks", "healthy/"}},
		{"a status the matcher refuses", []error{&statusError{503}, &statusError{503}}, []string{"unhealthy/Target.ResponseCodeMismatch: Health checks failed with these codes: [503]"}},
		{"a new status is reported", []error{&statusError{503}, &statusError{503}, &statusError{503}, &statusError{500}}, []string{"unhealthy/Target.ResponseCodeMismatch: Health checks failed with these codes: [503]", "unhealthy/Target.ResponseCodeMismatch: Health checks failed with these codes: [500]"}},
		{"a mismatch then a refusal", []error{&statusError{404}, &statusError{404}, refused}, []string{"unhealthy/Target.ResponseCodeMismatch: Health checks failed with these codes: [404]", "unhealthy/Target.FailedHealthChecks"}},
		{"one failure does not unseat a healthy target", []error{nil, nil, nil, refused, nil}, []string{"healthy/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := initialHealth()
			var got []string
			for _, err := range tc.results {
				if s.observe(err, hc) {
					change := s.state + "/" + s.reason
					if s.reason == ReasonResponseCodeMismatch {
						change += ": " + s.description
					}
					got = append(got, change)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("changes %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHealthCheckDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   HealthCheck
		want HealthCheck
	}{
		{"AWS defaults", HealthCheck{Enabled: true}, HealthCheck{Enabled: true, Protocol: "TCP", Interval: 30 * time.Second, Timeout: 10 * time.Second, HealthyThreshold: 5, UnhealthyThreshold: 2}},
		{"timeout within interval", HealthCheck{Interval: time.Second, Timeout: 5 * time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1}, HealthCheck{Protocol: "TCP", Interval: time.Second, Timeout: time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1}},
		{"HTTP path and matcher", HealthCheck{Protocol: "HTTP", HealthyThreshold: 1, UnhealthyThreshold: 1}, HealthCheck{Protocol: "HTTP", Path: "/", Matcher: "200-399", Interval: 30 * time.Second, Timeout: 10 * time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1}},
		{"HTTPS keeps its own", HealthCheck{Protocol: "HTTPS", Path: "/ping", Matcher: "204", HealthyThreshold: 1, UnhealthyThreshold: 1}, HealthCheck{Protocol: "HTTPS", Path: "/ping", Matcher: "204", Interval: 30 * time.Second, Timeout: 10 * time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1}},
		{"TCP has no path or matcher", HealthCheck{Protocol: "TCP", Path: "/x", Matcher: "200", HealthyThreshold: 1, UnhealthyThreshold: 1}, HealthCheck{Protocol: "TCP", Interval: 30 * time.Second, Timeout: 10 * time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if !isTimeout(fmt.Errorf("x: %w", context.DeadlineExceeded)) || isTimeout(errors.New("refused")) {
		t.Error("isTimeout misclassifies")
	}
}
