package core

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// drainFixture is a target group in use by a listener, with targets a and
// b on port 22 and b again on 2222, a and b healthy on 22.
type drainFixture struct {
	e    *plEnv
	tg   TargetGroupDescription
	a, b *Instance
}

func newDrainFixture(t *testing.T) drainFixture {
	t.Helper()
	e := plNew(t)
	ctx := context.Background()
	n := e.plNetwork(t, plProvider, "10.0.0.0/16")
	f := drainFixture{e: e, a: e.plInstance(t, plProvider, n.subA, InstanceRunning), b: e.plInstance(t, plProvider, n.subB, InstanceRunning)}
	lb := e.plLB(t, plProvider, "nlb", n.subA.ID, n.subB.ID)
	f.tg = e.plTargetGroup(t, plProvider, "tg", n.vpc.ID, 22)
	e.plListener(t, plProvider, lb.ARN, 22, f.tg.ARN)
	plOK(t, e.RegisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: f.a.ID}, {ID: f.b.ID}, {ID: f.b.ID, Port: 2222}}))
	for _, id := range []string{f.a.ID, f.b.ID} {
		plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: f.tg.ID, TargetID: id, Port: 22, State: TargetHealthy}))
	}
	return f
}

// states describes the group's targets as "id:port=state".
func (f drainFixture) states(t *testing.T) []string {
	t.Helper()
	h, err := f.e.DescribeTargetHealth(context.Background(), plProvider, DescribeTargetHealthInput{TargetGroupARN: f.tg.ARN})
	plOK(t, err)
	var out []string
	for _, d := range h {
		out = append(out, d.Target.ID+":"+itoa(d.Target.Port)+"="+d.State)
	}
	return out
}

func (f drainFixture) healthKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for _, kv := range f.e.plDump(t) {
		if strings.HasPrefix(kv.Key, prefixTargetHealthOf(f.tg.ID)) {
			keys = append(keys, strings.TrimPrefix(kv.Key, prefixTargetHealthOf(f.tg.ID)))
		}
	}
	return keys
}

func (f drainFixture) advance(d time.Duration) time.Time {
	*f.e.clock = f.e.clock.Add(d)
	return *f.e.clock
}

// sortedStrings is ss sorted, as store keys are listed.
func sortedStrings(ss ...string) []string {
	slices.Sort(ss)
	return ss
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeregisterTargetsDrains(t *testing.T) {
	f := newDrainFixture(t)
	e, ctx := f.e, context.Background()
	a, b := f.a.ID, f.b.ID
	start := *e.clock

	plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: a}, {ID: b, Port: 2222}, {ID: "i-0123456789abcdef0"}}))
	if got, want := f.states(t), []string{a + ":22=draining", b + ":22=healthy", b + ":2222=draining"}; !sameStrings(got, want) {
		t.Fatalf("after DeregisterTargets: %v, want %v", got, want)
	}
	h, err := e.DescribeTargetHealth(ctx, plProvider, DescribeTargetHealthInput{TargetGroupARN: f.tg.ARN, Targets: []TargetDescription{{ID: a}}})
	plOK(t, err)
	if len(h) != 1 || h[0].Reason != ReasonDeregistration || h[0].Description != "Target deregistration is in progress" {
		t.Errorf("draining target described as %+v", h)
	}
	if got, want := f.healthKeys(t), sortedStrings(a+":22", b+":22"); !sameStrings(got, want) {
		t.Errorf("health records while draining: %v", got)
	}
	// The health checker may still report on a draining target.
	plOK(t, e.PutTargetHealth(ctx, TargetHealth{TargetGroupID: f.tg.ID, TargetID: a, Port: 22, State: TargetUnhealthy, Reason: ReasonTimeout}))
	if got := f.states(t)[0]; got != a+":22=draining" {
		t.Errorf("a health report ended a drain: %s", got)
	}

	t.Run("deregistering a draining target again changes nothing", func(t *testing.T) {
		f.advance(time.Minute)
		rev := e.plRevision(t)
		plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: a}}))
		g := f.group(t)
		if !g.Targets[0].DeregisteredAt.Equal(start) {
			t.Errorf("DeregisteredAt moved to %v", g.Targets[0].DeregisteredAt)
		}
		_ = rev
	})

	t.Run("the drain ends after the delay", func(t *testing.T) {
		next, err := e.FinishDeregistrations(ctx, start.Add(299*time.Second))
		plOK(t, err)
		if want := start.Add(300 * time.Second); !next.Equal(want) {
			t.Errorf("next = %v, want %v", next, want)
		}
		if got := f.states(t); len(got) != 3 {
			t.Errorf("targets left before the delay: %v", got)
		}
		next, err = e.FinishDeregistrations(ctx, start.Add(300*time.Second))
		plOK(t, err)
		if !next.IsZero() {
			t.Errorf("next = %v with no drain left", next)
		}
		if got, want := f.states(t), []string{b + ":22=healthy"}; !sameStrings(got, want) {
			t.Errorf("after the drain: %v, want %v", got, want)
		}
		if got := f.healthKeys(t); !sameStrings(got, []string{b + ":22"}) {
			t.Errorf("health records after the drain: %v", got)
		}
		h, err := e.DescribeTargetHealth(ctx, plProvider, DescribeTargetHealthInput{TargetGroupARN: f.tg.ARN, Targets: []TargetDescription{{ID: a}}})
		plOK(t, err)
		if h[0].State != TargetUnused || h[0].Reason != ReasonNotRegistered {
			t.Errorf("a target gone after its drain: %+v", h[0])
		}
	})

	t.Run("nothing due writes nothing", func(t *testing.T) {
		rev := e.plRevision(t)
		next, err := e.FinishDeregistrations(ctx, start.Add(time.Hour))
		plOK(t, err)
		if !next.IsZero() || e.plRevision(t) != rev {
			t.Errorf("next %v, revision %d → %d", next, rev, e.plRevision(t))
		}
	})
}

func (f drainFixture) group(t *testing.T) *TargetGroup {
	t.Helper()
	var g *TargetGroup
	f.e.plPut(t, func(tx *txn) error {
		var err error
		g, _, err = get[TargetGroup](tx, keyTargetGroup(f.tg.ID))
		return err
	})
	return g
}

func TestRegisterCancelsDrain(t *testing.T) {
	f := newDrainFixture(t)
	e, ctx := f.e, context.Background()
	a := f.a.ID
	plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: a}}))
	f.advance(time.Minute)
	plOK(t, e.RegisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: a, Port: 22}}))
	// Back in the health state it had, as AWS reports a re-registered
	// draining target.
	if got := f.states(t)[0]; got != a+":22=healthy" {
		t.Errorf("re-registered target: %s", got)
	}
	if next, err := e.FinishDeregistrations(ctx, f.advance(time.Hour)); err != nil || !next.IsZero() {
		t.Errorf("FinishDeregistrations = %v, %v", next, err)
	}
	if got := f.states(t); len(got) != 3 {
		t.Errorf("a re-registered target left: %v", got)
	}
}

func TestDrainDelay(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay string
		// gone is whether the target has left right after DeregisterTargets.
		gone bool
	}{
		{"delay 0 removes at once", "0", true},
		{"delay 1 drains", "1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDrainFixture(t)
			e, ctx := f.e, context.Background()
			_, err := e.ModifyTargetGroupAttributes(ctx, plProvider, f.tg.ARN, []Attribute{{AttrDeregistrationDelay, tc.delay}})
			plOK(t, err)
			plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: f.a.ID}}))
			states := f.states(t)
			if gone := len(states) == 2; gone != tc.gone {
				t.Errorf("targets %v", states)
			}
			if tc.gone && sameStrings(f.healthKeys(t), sortedStrings(f.a.ID+":22", f.b.ID+":22")) {
				t.Error("health of a removed target survived")
			}
		})
	}

	t.Run("shortening the delay shortens drains under way", func(t *testing.T) {
		f := newDrainFixture(t)
		e, ctx := f.e, context.Background()
		start := *e.clock
		plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: f.a.ID}}))
		f.advance(30 * time.Second)
		plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: f.b.ID}}))
		next, err := e.FinishDeregistrations(ctx, *e.clock)
		plOK(t, err)
		if want := start.Add(300 * time.Second); !next.Equal(want) {
			t.Errorf("next = %v, want %v", next, want)
		}
		_, err = e.ModifyTargetGroupAttributes(ctx, plProvider, f.tg.ARN, []Attribute{{AttrDeregistrationDelay, "60"}})
		plOK(t, err)
		next, err = e.FinishDeregistrations(ctx, start.Add(60*time.Second))
		plOK(t, err)
		if want := start.Add(90 * time.Second); !next.Equal(want) {
			t.Errorf("after a shorter delay next = %v, want %v", next, want)
		}
		if got, want := f.states(t), []string{f.b.ID + ":22=draining", f.b.ID + ":2222=initial"}; !sameStrings(got, want) {
			t.Errorf("targets %v, want %v", got, want)
		}
	})

	t.Run("groups drain apart", func(t *testing.T) {
		f := newDrainFixture(t)
		e, ctx := f.e, context.Background()
		start := *e.clock
		other := e.plTargetGroup(t, plProvider, "other", f.a.VpcID, 23)
		_, err := e.ModifyTargetGroupAttributes(ctx, plProvider, other.ARN, []Attribute{{AttrDeregistrationDelay, "10"}})
		plOK(t, err)
		plOK(t, e.RegisterTargets(ctx, plProvider, other.ARN, []TargetDescription{{ID: f.a.ID}}))
		plOK(t, e.DeregisterTargets(ctx, plProvider, other.ARN, []TargetDescription{{ID: f.a.ID}}))
		plOK(t, e.DeregisterTargets(ctx, plProvider, f.tg.ARN, []TargetDescription{{ID: f.a.ID}}))
		next, err := e.FinishDeregistrations(ctx, start.Add(10*time.Second))
		plOK(t, err)
		if want := start.Add(300 * time.Second); !next.Equal(want) {
			t.Errorf("next = %v, want %v", next, want)
		}
		if got := f.states(t)[0]; got != f.a.ID+":22=draining" {
			t.Errorf("the slower group's target: %s", got)
		}
		h, err := e.DescribeTargetHealth(ctx, plProvider, DescribeTargetHealthInput{TargetGroupARN: other.ARN})
		plOK(t, err)
		if len(h) != 0 {
			t.Errorf("the faster group still has %+v", h)
		}
	})
}

func TestDrainEnds(t *testing.T) {
	at := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	g := &TargetGroup{Attributes: map[string]string{AttrDeregistrationDelay: "45"}}
	if end := g.DrainEnds(Target{DeregisteredAt: at}); !end.Equal(at.Add(45 * time.Second)) {
		t.Errorf("DrainEnds = %v", end)
	}
	if end := g.DrainEnds(Target{}); !end.IsZero() {
		t.Errorf("DrainEnds of a registered target = %v", end)
	}
	if end := (&TargetGroup{}).DrainEnds(Target{DeregisteredAt: at}); !end.Equal(at.Add(300 * time.Second)) {
		t.Errorf("default delay: DrainEnds = %v", end)
	}
}
