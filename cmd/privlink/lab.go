package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/privlink/privlink/lab"
)

func newLabCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "lab", Short: "Manage the lab fabric on this host"}
	var dataDir string
	clean := &cobra.Command{
		Use:   "clean",
		Short: "Remove every lab object (namespaces, processes, rules) of the server with this data dir",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := filepath.Abs(dataDir)
			if err != nil {
				return err
			}
			prefix := lab.PrefixFor(abs)
			if err := lab.Clean(prefix); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed lab %s (data dir %s)\n", prefix, abs)
			return nil
		},
	}
	clean.Flags().StringVar(&dataDir, "data-dir", defaultDataDir, "data directory of the server whose lab to remove")
	cmd.AddCommand(clean)
	return cmd
}
