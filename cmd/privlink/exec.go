package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/spf13/cobra"
)

func newExecCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "exec INSTANCE_ID -- CMD [ARG...]",
		Short: "Run a command inside a lab instance",
		Long: `Run a command inside a lab instance's network namespace, with the VPC's
resolver and the caller's environment. Output passes through and privlink exits
with the command's status. Needs root on the server's host.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return fmt.Errorf("usage: privlink exec INSTANCE_ID -- CMD [ARG...]")
			}
			inst, err := cf.client().DescribeLabInstance(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if inst.State != "running" {
				return fmt.Errorf("instance %s is %s, not running", args[0], inst.State)
			}
			ip, err := exec.LookPath("ip")
			if err != nil {
				return fmt.Errorf("privlink exec needs iproute2's ip command: %w", err)
			}
			// ip netns exec enters the namespace and bind-mounts
			// /etc/netns/<ns>/resolv.conf over /etc/resolv.conf. Exec
			// replaces this process, so output and status pass through.
			argv := append([]string{"ip", "netns", "exec", inst.Namespace}, args[1:]...)
			if err := syscall.Exec(ip, argv, os.Environ()); err != nil {
				return fmt.Errorf("exec %s: %w", ip, err)
			}
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}
