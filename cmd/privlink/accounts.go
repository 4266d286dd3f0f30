package main

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

func newAccountsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "accounts", Short: "Manage accounts of a running server"}
	var cf clientFlags
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account and print it as JSON (AccountId, AccessKeyId, SecretAccessKey)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			acct, err := cf.client().CreateAccount(cmd.Context())
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "    ")
			return enc.Encode(acct)
		},
	}
	cf.register(create)
	cmd.AddCommand(create)
	return cmd
}
