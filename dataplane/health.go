package dataplane

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// healthState is one target's health and its run of consecutive results.
//
//	initial ──HealthyThreshold successes──▶ healthy
//	   │                                    │  ▲
//	   │        UnhealthyThreshold failures │  │ HealthyThreshold successes
//	   └──UnhealthyThreshold failures──▶ unhealthy
//
// A target removed from its group becomes unused (Target.NotRegistered);
// with checks disabled every target is unavailable (Target.HealthCheckDisabled).
type healthState struct {
	state, reason, description string
	// successes and failures count the current run of equal results.
	successes, failures int
}

func initialHealth() healthState {
	return healthState{state: StateInitial, reason: ReasonInitialHealthChecking, description: "Initial health checking in progress"}
}

func disabledHealth() healthState {
	return healthState{state: StateUnavailable, reason: ReasonHealthCheckDisabled, description: "Health checks disabled"}
}

func unusedHealth() healthState {
	return healthState{state: StateUnused, reason: ReasonNotRegistered, description: "Target is not registered to the target group"}
}

// observe records one check result (nil is a success) and reports whether
// the state, its reason or its description changed (an unhealthy target
// whose status code changes, 503 to 500, reports the new code).
func (s *healthState) observe(err error, hc HealthCheck) bool {
	before := *s
	if err == nil {
		s.failures = 0
		s.successes++
		if s.state != StateHealthy && s.successes >= hc.HealthyThreshold {
			s.state, s.reason, s.description = StateHealthy, "", ""
		}
	} else {
		s.successes = 0
		s.failures++
		if s.failures >= hc.UnhealthyThreshold {
			s.state = StateUnhealthy
			var mismatch *statusError
			switch {
			case errors.As(err, &mismatch):
				s.reason = ReasonResponseCodeMismatch
				s.description = fmt.Sprintf("Health checks failed with these codes: [%d]", mismatch.code)
			case isTimeout(err):
				s.reason, s.description = ReasonTimeout, "Request timed out"
			default:
				s.reason, s.description = ReasonFailedHealthChecks, "Health checks failed"
			}
		}
	}
	return s.state != before.state || s.reason != before.reason || s.description != before.description
}

// statusError is an HTTP or HTTPS check answered with a status the matcher
// does not accept.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("health check answered with HTTP status %d, which the matcher does not accept", e.code)
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}
