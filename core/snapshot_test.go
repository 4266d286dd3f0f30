package core

import (
	"context"
	"reflect"
	"testing"
)

// TestLoadSnapshotWithoutLab checks that the snapshot of a server without a
// lab is the whole snapshot less the kinds only the lab reads.
func TestLoadSnapshotWithoutLab(t *testing.T) {
	e := plNew(t)
	ctx := context.Background()
	w := e.plWorld(t, false)
	e.plAllow(t, w.svc.ID, "arn:aws:iam::"+plConsumer.AccountID+":root")
	e.plEndpoint(t, plConsumer, w, w.cons.subA.ID)

	whole, err := e.LoadSnapshot(ctx)
	plOK(t, err)
	for name, n := range map[string]int{
		"security groups": len(whole.SecurityGroups), "listeners": len(whole.Listeners),
		"endpoints": len(whole.Endpoints), "interfaces": len(whole.ENIs),
	} {
		if n == 0 {
			t.Fatalf("the world has no %s to compare", name)
		}
	}
	part, err := e.LoadSnapshotWithoutLab(ctx)
	plOK(t, err)
	if part.SecurityGroups != nil || part.Listeners != nil || part.TargetHealth != nil {
		t.Errorf("without a lab: %d groups, %d listeners, %d health records; want none",
			len(part.SecurityGroups), len(part.Listeners), len(part.TargetHealth))
	}
	whole.SecurityGroups, whole.Listeners, whole.TargetHealth = nil, nil, nil
	if !reflect.DeepEqual(part, whole) {
		t.Errorf("without a lab:\n%+v\nwant the whole snapshot less the lab's kinds:\n%+v", part, whole)
	}
}
