package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerStoreFlags checks that `privlink server` refuses a bad --store
// and --store memory with --etcd-endpoints, saying why, before it touches
// the data dir or needs root.
func TestServerStoreFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown store", []string{"--store", "bolt"}, `--store "bolt": want etcd`},
		{"empty store", []string{"--store", ""}, `--store "": want etcd`},
		{"memory with a cluster", []string{"--store", "memory", "--etcd-endpoints", "http://127.0.0.1:2379"},
			"--store memory keeps state in this process and uses no etcd: drop --etcd-endpoints"},
		{"memory with a cluster, no lab", []string{"--store", "memory", "--no-lab", "--etcd-endpoints", "x"},
			"drop --etcd-endpoints"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			root := newRoot()
			root.SetArgs(append([]string{"server", "--data-dir", dir, "--listen", "127.0.0.1:0", "--dns-listen", ""}, tc.args...))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("privlink server %s: %v, want an error saying %q", strings.Join(tc.args, " "), err, tc.want)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("the refused server made its data dir (stat: %v)", err)
			}
		})
	}
}

func TestStoreDesc(t *testing.T) {
	tests := []struct {
		f    serverFlags
		want string
	}{
		{serverFlags{store: storeEtcd}, "embedded etcd member"},
		{serverFlags{store: storeEtcd, etcdEndpoints: []string{"http://a:2379", "http://b:2379"}}, "etcd cluster http://a:2379,http://b:2379"},
		{serverFlags{store: storeMemory}, "in memory (--store memory): state ends with the server"},
	}
	for _, tc := range tests {
		if got := storeDesc(tc.f); got != tc.want {
			t.Errorf("storeDesc(%+v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestLockDataDir checks that a second server on a data dir is refused
// while the first holds it, and admitted once it is gone.
func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use by another privlink server") {
		t.Fatalf("second lock of %s: %v, want in use", dir, err)
	}
	unlock()
	unlock, err = lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after the first holder let go: %v", err)
	}
	unlock()
}
