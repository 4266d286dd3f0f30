package core

import (
	"context"
	"slices"
	"time"
)

// Deregistration draining. A target's life in its group:
//
//	RegisterTargets ──► registered ──DeregisterTargets──► draining ──delay over──► (gone)
//	                        ▲                                │     (FinishDeregistrations)
//	                        └──────────RegisterTargets───────┘
//
// While draining, a target keeps its established flows and gets no new
// ones; DescribeTargetHealth reports it "draining". The delay is the
// group's deregistration_delay.timeout_seconds as it is when the drain is
// checked, so shortening it shortens drains under way. A delay of 0 skips
// draining altogether.

// DrainEnds is when a draining target of g leaves it, or the zero time for
// a target that is not draining.
func (g *TargetGroup) DrainEnds(x Target) time.Time {
	if !x.Draining() {
		return time.Time{}
	}
	return x.DeregisteredAt.Add(time.Duration(g.DeregistrationDelaySeconds()) * time.Second)
}

// FinishDeregistrations removes every target whose drain is over at now,
// with its recorded health, and returns the earliest time a remaining drain
// ends (zero when none is under way). The reconciler calls it when that time
// comes and whenever target groups change.
func (c *Cloud) FinishDeregistrations(ctx context.Context, now time.Time) (next time.Time, err error) {
	// A read finds the groups with drains that are over; most calls find
	// none and write nothing.
	var due []string
	err = c.view(ctx, func(t *txn) error {
		due, next = nil, time.Time{}
		return forEach(t, prefixTargetGroups, func(g *TargetGroup) {
			over, end := drainsOver(g, now)
			if over {
				due = append(due, g.ID)
			}
			next = earlier(next, end)
		})
	})
	if err != nil || len(due) == 0 {
		return next, err
	}
	err = c.update(ctx, func(t *txn) error {
		next = time.Time{}
		err := forEach(t, prefixTargetGroups, func(g *TargetGroup) {
			if _, end := drainsOver(g, now); !slices.Contains(due, g.ID) {
				next = earlier(next, end)
			}
		})
		if err != nil {
			return err
		}
		for _, id := range due {
			g, ok, err := get[TargetGroup](t, keyTargetGroup(id))
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			var gone []Target
			g.Targets = slices.DeleteFunc(g.Targets, func(x Target) bool {
				end := g.DrainEnds(x)
				if !end.IsZero() && !end.After(now) {
					gone = append(gone, x)
					return true
				}
				next = earlier(next, end)
				return false
			})
			if len(gone) == 0 {
				continue
			}
			if err := deleteTargetHealth(t, g.ID, gone); err != nil {
				return err
			}
			if err := put(t, keyTargetGroup(g.ID), g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return next, nil
}

// drainsOver reports whether a drain of g is over at now, and when the
// first drain still under way ends (zero if none).
func drainsOver(g *TargetGroup, now time.Time) (over bool, next time.Time) {
	for _, x := range g.Targets {
		end := g.DrainEnds(x)
		switch {
		case end.IsZero():
		case !end.After(now):
			over = true
		default:
			next = earlier(next, end)
		}
	}
	return over, next
}

// earlier returns the earlier of two times, a zero time counting as none.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
