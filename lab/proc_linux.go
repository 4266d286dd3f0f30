package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/privlink/privlink/netns"
)

// userDataEnv is the environment user data runs with: that of a boot
// script, not privlink's.
var userDataEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"USER=root",
	"LOGNAME=root",
}

// userDataMark is the alias of an instance's lo once its user data has been
// started. The record lives and dies with the namespace: a restart of
// privlink adopts the namespace and finds it, while a namespace built anew
// (after `privlink lab clean` or a host reboot, which took the script's
// processes with it) runs the user data again, as a fresh boot would.
const userDataMark = "privlink: user data launched"

// launchUserData runs an instance's user data once per namespace. The mark
// is set before the script starts, so a crash can lose a run but never
// repeat one. The script runs through `ip netns exec`, which alone can give
// it the namespace's resolv.conf (a bind mount in a private mount
// namespace), in a session of its own with its output in console.log, so
// it outlives privlink; while privlink lives it reaps it (see reap).
func (l *Lab) launchUserData(inst *nsConn, in Instance) error {
	lo, err := inst.nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("user data: lo: %w", err)
	}
	if lo.Attrs().Alias == userDataMark {
		return nil
	}
	mark := func() error {
		if err := inst.nl.LinkSetAlias(lo, userDataMark); err != nil {
			return fmt.Errorf("user data: mark lo: %w", err)
		}
		return nil
	}
	if len(in.UserData) == 0 {
		return mark() // user data added later does not run either
	}
	if l.ipPath == "" {
		return errors.New("user data: iproute2's ip command is not installed")
	}
	dir := l.instanceDir(in.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("user data: %w", err)
	}
	script := filepath.Join(dir, "user-data")
	if err := writeSynced(script, in.UserData, 0o700); err != nil {
		return fmt.Errorf("user data: %w", err)
	}
	console, err := os.OpenFile(filepath.Join(dir, "console.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("user data: %w", err)
	}
	defer console.Close()

	args := []string{"netns", "exec", inst.ns.Name()}
	if bytes.HasPrefix(in.UserData, []byte("#!")) {
		args = append(args, script)
	} else {
		args = append(args, "/bin/sh", script)
	}
	cmd := exec.Command(l.ipPath, args...)
	cmd.Dir, cmd.Env = "/", userDataEnv
	cmd.Stdout, cmd.Stderr = console, console // stdin is /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}

	if err := mark(); err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		// It did not run: let the next Apply try again.
		_ = inst.nl.LinkSetAlias(lo, "")
		return fmt.Errorf("user data: start: %w", err)
	}
	pid := cmd.Process.Pid
	// The pid stays a child of ours until reaped with wait4 in reap; the
	// os.Process handle is not needed for that.
	_ = cmd.Process.Release()
	l.children[pid] = in.ID
	l.log.Info("lab: user data started", "instance", in.ID, "pid", pid)
	return nil
}

// reap collects user data processes that have exited. It never blocks.
// l.mu must be held.
func (l *Lab) reap() {
	for pid, id := range l.children {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.ECHILD):
			delete(l.children, pid)
		case err == nil && got == pid:
			delete(l.children, pid)
			l.log.Info("lab: user data exited", "instance", id, "pid", pid, "status", ws.ExitStatus(), "signal", ws.Signal())
		}
	}
}

// writeSynced writes a file and syncs it, so a record survives a crash.
func writeSynced(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// killProcesses kills every process whose network namespace is the named
// one, and waits until none is left. reap, if not nil, collects those that
// were children of ours. Threads that merely visit the namespace (setns on
// one thread) are not found, and this process is never killed.
func killProcesses(ctx context.Context, name string, reap func()) error {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(netns.Dir, name), &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("stat %s: %w", name, err)
	}
	if !mounted(name) {
		return nil // not a namespace: nothing can be in it
	}
	const rounds = 250 // 5 s
	for round := 0; ; round++ {
		pids, err := processesIn(st.Dev, st.Ino)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if round == rounds {
			return fmt.Errorf("processes %v in %s survive SIGKILL", pids, name)
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("kill %d in %s: %w", pid, name, err)
			}
		}
		if reap != nil {
			reap()
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// processesIn lists the processes whose network namespace has that device
// and inode. Exited processes (zombies) have no namespace and are skipped.
func processesIn(dev, ino uint64) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		var st unix.Stat_t
		if unix.Stat("/proc/"+e.Name()+"/ns/net", &st) != nil {
			continue
		}
		if st.Dev == dev && st.Ino == ino {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}
