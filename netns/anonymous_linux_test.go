package netns

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestAnonymous(t *testing.T) {
	requireRoot(t)
	ns, err := Anonymous()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()

	var self, anon, inside unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstat(int(ns.Handle()), &anon); err != nil {
		t.Fatal(err)
	}
	if self.Ino == anon.Ino {
		t.Fatal("Anonymous returned the caller's own namespace")
	}
	err = ns.Do(func() error { return unix.Stat("/proc/thread-self/ns/net", &inside) })
	if err != nil || inside.Ino != anon.Ino {
		t.Fatalf("Do entered namespace %d (%v), want %d", inside.Ino, err, anon.Ino)
	}
	if ns.Name() != "" {
		t.Errorf("an anonymous namespace has name %q", ns.Name())
	}
}
