// Package netns creates, enters and removes named Linux network namespaces,
// and opens sockets inside them.
//
// Entering a namespace changes only the calling OS thread, so every entry
// locks the goroutine to its thread and restores the original namespace
// before unlocking; a thread that cannot be restored is never returned to
// the scheduler (the CNI ns.Do pattern). Sockets keep the namespace they were
// created in, so only socket creation happens inside: a dial's connect wait
// runs on an ordinary goroutine and pins no thread.
package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Dir is where named namespaces are bind-mounted, as iproute2 does.
const Dir = "/run/netns"

// NS is an open handle on a named network namespace.
type NS struct {
	name string
	h    vnetns.NsHandle
}

// Name returns the namespace's name.
func (ns *NS) Name() string { return ns.name }

// Path returns the namespace's bind-mount path.
func (ns *NS) Path() string { return filepath.Join(Dir, ns.name) }

// Close releases the handle. The namespace itself stays.
func (ns *NS) Close() error { return ns.h.Close() }

// Handle returns the namespace file descriptor, for netlink handles bound to
// the namespace. It is valid until Close.
func (ns *NS) Handle() vnetns.NsHandle { return ns.h }

// Exists reports whether a namespace with the name is mounted.
func Exists(name string) bool {
	h, err := vnetns.GetFromName(name)
	if err != nil {
		return false
	}
	h.Close()
	return true
}

// Open opens the named namespace.
func Open(name string) (*NS, error) {
	h, err := vnetns.GetFromName(name)
	if err != nil {
		return nil, fmt.Errorf("netns: open %s: %w", name, err)
	}
	return &NS{name: name, h: h}, nil
}

// Create makes a new named namespace, or opens it if it exists already.
func Create(name string) (*NS, error) {
	if ns, err := Open(name); err == nil {
		return ns, nil
	}
	runtime.LockOSThread()
	orig, err := vnetns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("netns: current namespace: %w", err)
	}
	defer orig.Close()
	h, err := vnetns.NewNamed(name) // creates, mounts and enters it
	if rerr := vnetns.Set(orig); rerr != nil {
		// Leave the thread locked: it dies with this goroutine instead of
		// serving others from the wrong namespace.
		return nil, fmt.Errorf("netns: restore namespace after creating %s: %w", name, rerr)
	}
	runtime.UnlockOSThread()
	if err != nil {
		return nil, fmt.Errorf("netns: create %s: %w", name, err)
	}
	return &NS{name: name, h: h}, nil
}

// Delete unmounts and removes the named namespace. A missing namespace is not
// an error. The namespace lives on while processes or open handles use it.
func Delete(name string) error {
	err := vnetns.DeleteNamed(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("netns: delete %s: %w", name, err)
	}
	_ = os.Remove(filepath.Join(Dir, name))
	return nil
}

// List returns the names of mounted namespaces.
func List() ([]string, error) {
	ents, err := os.ReadDir(Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: list: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names, nil
}

// Do runs fn on a thread inside the namespace. fn must not start goroutines
// that expect to be in the namespace: they would not be.
func (ns *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := vnetns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current namespace: %w", err)
	}
	defer orig.Close()
	if err := vnetns.Set(ns.h); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", ns.name, err)
	}
	ferr := fn()
	if err := vnetns.Set(orig); err != nil {
		// Keep the thread locked so it is discarded with this goroutine.
		return fmt.Errorf("netns: leave %s: %w", ns.name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// ListenOption sets an option on a listening socket before it binds.
type ListenOption func(fd int) error

// WithMark marks every packet the socket sends (SO_MARK), for policy
// routing to route by. A TCP listener's connections take it too.
func WithMark(mark uint32) ListenOption {
	return func(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(mark)) }
}

// listenControl sets IP_FREEBIND, SO_REUSEADDR if reuse, and opts.
func listenControl(reuse bool, opts []ListenOption) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if reuse {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); serr != nil {
					return
				}
			}
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1); serr != nil {
				return
			}
			for _, o := range opts {
				if serr = o(int(fd)); serr != nil {
					return
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// ListenTCP opens a TCP listener on addr inside the namespace. The address
// need not be configured yet (IP_FREEBIND), and SO_REUSEADDR is set so a
// restarted server can listen again at once.
func (ns *NS) ListenTCP(addr netip.AddrPort, opts ...ListenOption) (*net.TCPListener, error) {
	lc := net.ListenConfig{Control: listenControl(true, opts)}
	var l net.Listener
	err := ns.Do(func() error {
		var err error
		l, err = lc.Listen(context.Background(), "tcp4", addr.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen %s in %s: %w", addr, ns.name, err)
	}
	return l.(*net.TCPListener), nil
}

// DialTCP connects from laddr (port 0 for any) to raddr with a socket that
// lives in the namespace. The returned *net.TCPConn is a plain kernel socket,
// so io.Copy between two of them splices.
func (ns *NS) DialTCP(ctx context.Context, laddr netip.Addr, raddr netip.AddrPort) (*net.TCPConn, error) {
	var fd int
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: socket in %s: %w", ns.name, err)
	}
	c, err := connectFD(ctx, fd, laddr, raddr)
	if err != nil {
		return nil, fmt.Errorf("netns: dial %s from %s in %s: %w", raddr, laddr, ns.name, err)
	}
	return c, nil
}

// connectFD binds and connects a non-blocking socket and hands it to the net
// package. It owns fd: on error fd is closed.
func connectFD(ctx context.Context, fd int, laddr netip.Addr, raddr netip.AddrPort) (*net.TCPConn, error) {
	if !raddr.Addr().Is4() {
		unix.Close(fd)
		return nil, fmt.Errorf("only IPv4 destinations are supported")
	}
	if laddr.IsValid() {
		// Let connect pick the source port from the whole 4-tuple, so one
		// source address can hold more than the ephemeral range of flows.
		_ = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: laddr.As4()}); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("bind: %w", err)
		}
	}
	err := unix.Connect(fd, &unix.SockaddrInet4{Addr: raddr.Addr().As4(), Port: int(raddr.Port())})
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return nil, err
	}
	// Registering with the poller after connect has started means the first
	// writability event is the connect's completion.
	f := os.NewFile(uintptr(fd), "tcp")
	defer f.Close() // net.FileConn dups the descriptor
	if err == unix.EINPROGRESS {
		if err := waitConnected(ctx, f); err != nil {
			return nil, err
		}
	}
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

func waitConnected(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(aLongTimeAgo) })
	defer stop()
	var cerr error
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			cerr = err
			return true
		case v != 0:
			cerr = unix.Errno(v)
			return true
		}
		// SO_ERROR is 0 both on success and while still connecting; only a
		// connected socket has a peer.
		_, err = unix.Getpeername(int(fd))
		return err == nil
	})
	_ = f.SetWriteDeadline(noDeadline)
	if werr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return werr
	}
	return cerr
}
