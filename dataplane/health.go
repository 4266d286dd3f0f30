package dataplane

import (
	"context"
	"errors"
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
// the state or its reason changed.
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
			if isTimeout(err) {
				s.reason, s.description = ReasonTimeout, "Request timed out"
			} else {
				s.reason, s.description = ReasonFailedHealthChecks, "Health checks failed"
			}
		}
	}
	return s.state != before.state || s.reason != before.reason
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}
