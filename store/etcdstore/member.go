package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
	"go.uber.org/zap"

	"github.com/privlink/privlink/internal/dirlock"
)

// memberName and memberPeerHost identify the embedded member in etcd's
// membership records. Nothing listens on or dials its peer URL,
// unix://privlink-embedded: a single member has no peers.
const (
	memberName     = "privlink"
	memberPeerHost = "privlink-embedded"
)

// maxTxnOps is the embedded member's limit on operations in one Txn, well
// above etcd's default of 128 so big privlink transactions fit.
const maxTxnOps = 4096

// memberConfig returns the embedded member's etcd configuration.
func memberConfig(cfg Config, zl *zap.Logger) *embed.Config {
	ec := embed.NewConfig()
	ec.Name = memberName
	ec.Dir = cfg.DataDir
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zl)

	// No listeners at all: the store uses an in-process client.
	peer := url.URL{Scheme: "unix", Host: memberPeerHost}
	ec.ListenPeerUrls = nil
	ec.ListenClientUrls = nil
	ec.ListenClientHttpUrls = nil
	ec.AdvertiseClientUrls = nil
	ec.AdvertisePeerUrls = []url.URL{peer}
	ec.InitialCluster = memberName + "=" + peer.String()
	ec.InitialClusterToken = "privlink-embedded"

	// A lone member elects itself after ElectionMs; short ticks make that
	// tens of milliseconds. With no peers there is no network to spare.
	ec.TickMs = 10
	ec.ElectionMs = 50

	ec.AutoCompactionMode = embed.CompactorModeRevision
	ec.AutoCompactionRetention = strconv.FormatInt(cfg.CompactionRetention, 10)
	ec.MaxTxnOps = maxTxnOps
	// Auth is off and nobody connects from outside, so no token provider.
	ec.AuthToken = ""
	ec.EnableGRPCGateway = false
	return ec
}

// startMember locks cfg.DataDir, starts the embedded member in it and waits
// until it serves.
func (s *Store) startMember(ctx context.Context, cfg Config, zl *zap.Logger) (err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("etcdstore: create data dir: %w", err)
	}
	lock, err := lockDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()

	m, err := embed.StartEtcd(memberConfig(cfg, zl))
	if err != nil {
		return fmt.Errorf("etcdstore: start embedded etcd in %s: %w", cfg.DataDir, err)
	}
	select {
	case <-m.Server.ReadyNotify():
	case err = <-m.Err():
	case <-m.Server.StopNotify():
		err = errors.New("member stopped while starting")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		err = waitClusterVersion(ctx, m)
	}
	if err != nil {
		m.Close()
		return fmt.Errorf("etcdstore: start embedded etcd in %s: %w", cfg.DataDir, err)
	}
	s.member = m
	s.lock = lock
	s.client = v3client.New(m.Server)
	return nil
}

// lockDir takes an exclusive flock on dir/privlink.lock, so a second process
// (or a second Open in this one) fails at once instead of blocking on
// etcd's own file locks. The kernel drops the lock when the process dies.
func lockDir(dir string) (*os.File, error) {
	f, err := dirlock.Lock(dir)
	if errors.Is(err, dirlock.ErrInUse) {
		return nil, fmt.Errorf("etcdstore: data dir %s is in use by another store", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("etcdstore: %w", err)
	}
	return f, nil
}

// waitClusterVersion waits until a fresh member has decided its cluster
// version, which it does in the moments after it becomes ready. Until then
// it is not fully set up, and stopping it logs failures.
func waitClusterVersion(ctx context.Context, m *embed.Etcd) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for m.Server.ClusterVersion() == nil {
		select {
		case <-tick.C:
		case <-m.Server.StopNotify():
			return errors.New("member stopped while starting")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
