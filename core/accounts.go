package core

import (
	"context"
)

// Bootstrap credentials: the account that exists from the first start, unless
// disabled, so that the AWS CLI works with no set-up.
const (
	BootstrapAccountID = "000000000000"
	BootstrapAccessKey = "test"
	BootstrapSecretKey = "test"
)

// NewAccount is a created account with its first access key.
type NewAccount struct {
	Account   Account
	AccessKey AccessKey
}

// EnsureBootstrap creates the bootstrap account and its key if they do not
// exist. It is idempotent.
func (c *Cloud) EnsureBootstrap(ctx context.Context) error {
	return c.update(ctx, func(t *txn) error {
		if _, ok, err := get[Account](t, keyAccount(BootstrapAccountID)); err != nil || ok {
			return err
		}
		now := c.now()
		if err := put(t, keyAccount(BootstrapAccountID), Account{ID: BootstrapAccountID, CreatedAt: now, Admin: true}); err != nil {
			return err
		}
		return put(t, keyAccessKey(BootstrapAccessKey), AccessKey{
			ID: BootstrapAccessKey, Secret: BootstrapSecretKey, AccountID: BootstrapAccountID, CreatedAt: now,
		})
	})
}

// CreateAccount creates an account with a new access key. Only admin callers
// may create accounts.
func (c *Cloud) CreateAccount(ctx context.Context, caller Caller) (NewAccount, error) {
	if !caller.Admin {
		return NewAccount{}, Errorf(KindForbidden, "AccessDenied", "Only an administrator account can create accounts")
	}
	var out NewAccount
	err := c.update(ctx, func(t *txn) error {
		for range 10 {
			id := c.ids.digits(12)
			if _, taken, err := get[Account](t, keyAccount(id)); err != nil {
				return err
			} else if taken {
				continue
			}
			now := c.now()
			out.Account = Account{ID: id, CreatedAt: now}
			out.AccessKey = AccessKey{
				ID:        "AKIA" + c.ids.fromAlphabet(16, upperAlnum),
				Secret:    c.ids.fromAlphabet(40, secretChar),
				AccountID: id,
				CreatedAt: now,
			}
			if err := put(t, keyAccount(id), out.Account); err != nil {
				return err
			}
			return put(t, keyAccessKey(out.AccessKey.ID), out.AccessKey)
		}
		return Errorf(KindInternal, "InternalError", "could not find a free account ID")
	})
	return out, err
}

// LookupAccessKey returns the access key with the ID and whether its account
// is an admin. It is what request authentication calls.
func (c *Cloud) LookupAccessKey(ctx context.Context, id string) (AccessKey, Caller, error) {
	var key AccessKey
	var caller Caller
	err := c.view(ctx, func(t *txn) error {
		k, ok, err := get[AccessKey](t, keyAccessKey(id))
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(KindUnauthenticated, "AuthFailure", "The access key ID %q does not exist", id)
		}
		a, ok, err := get[Account](t, keyAccount(k.AccountID))
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(KindUnauthenticated, "AuthFailure", "The account of access key %q no longer exists", id)
		}
		key, caller = *k, Caller{AccountID: a.ID, Admin: a.Admin}
		return nil
	})
	return key, caller, err
}
