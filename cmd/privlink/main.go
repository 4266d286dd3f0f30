// Command privlink is AWS PrivateLink that you run yourself: `privlink
// server` turns a Linux host into a small AWS region driven by the real AWS
// CLI, and the other subcommands talk to a running server.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := newRoot().Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		fmt.Fprintln(os.Stderr, "privlink:", err)
		os.Exit(1)
	}
}

// exitError carries an exit status through cobra without printing.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "privlink",
		Short:         "AWS PrivateLink that you run yourself",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServerCmd(), newAccountsCmd(), newExecCmd(), newExplainCmd(), newLabCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "privlink", version)
		},
	}
}
