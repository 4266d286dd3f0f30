package netns

import (
	"fmt"
	"runtime"

	vnetns "github.com/vishvananda/netns"
)

// Anonymous makes a new network namespace that has no name: it lives while
// the returned handle (or anything else) holds it, so closing the handle
// removes it. It suits probes that must leave nothing behind.
func Anonymous() (*NS, error) {
	runtime.LockOSThread()
	orig, err := vnetns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: current namespace: %w", err)
	}
	defer orig.Close()
	h, err := vnetns.New() // creates and enters it
	if rerr := vnetns.Set(orig); rerr != nil {
		// Leave the thread locked: it dies with this goroutine instead of
		// serving others from the wrong namespace.
		if err == nil {
			h.Close()
		}
		return nil, fmt.Errorf("netns: restore namespace after creating an anonymous one: %w", rerr)
	}
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("netns: create anonymous namespace: %w", err)
	}
	return &NS{h: h}, nil
}
