package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/privlink/privlink/explain"
)

func newExplainCmd() *cobra.Command {
	var (
		cf     clientFlags
		q      explain.Query
		port   int
		output string
	)
	cmd := &cobra.Command{
		Use:   "explain --source i-... | --source-ip IP --vpc vpc-...  --endpoint vpce-... | --destination IP  --port N",
		Short: "Say whether a flow to a VPC endpoint gets through and, if not, what stops it",
		Long: `Walk the path a new TCP flow takes from a source in a VPC to an interface
endpoint and a port: the source's security groups, the endpoint's state and
security groups, the service's listener, load balancer node and targets, and
the targets' security groups. Print one line per step (✓ passed, ✗ stopped
the flow, ? undecided) and the verdict: delivered, dropped (the client times
out), refused (the client gets a reset) or unknown.

The caller must own the source or the endpoint; other accounts' objects on
the path are described without their IDs, as AWS would.

Exit status: 0 when the flow is delivered, 1 when it is not, 2 on errors.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return explainUsage(cmd, "unexpected arguments %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case output != "text" && output != "json":
				return explainUsage(cmd, "--output %q: want text or json", output)
			case (q.SourceInstanceID == "") == (q.SourceIP == ""):
				return explainUsage(cmd, "name the source with --source INSTANCE_ID or with --source-ip IP and --vpc VPC_ID")
			case q.SourceIP != "" && q.VpcID == "":
				return explainUsage(cmd, "--source-ip needs --vpc, the VPC the address is in")
			case q.SourceInstanceID != "" && q.VpcID != "":
				return explainUsage(cmd, "--vpc goes with --source-ip; an instance's VPC is known")
			case (q.EndpointID == "") == (q.DestinationIP == ""):
				return explainUsage(cmd, "name the destination with --endpoint VPC_ENDPOINT_ID or --destination IP")
			case port < 1 || port > 65535:
				return explainUsage(cmd, "--port: want a TCP port from 1 to 65535")
			}
			q.Port = int32(port)
			res, err := cf.client().ExplainFlow(cmd.Context(), q)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "privlink explain:", err)
				return exitError(2)
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "    ")
				err = enc.Encode(res)
			} else {
				err = res.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "privlink explain:", err)
				return exitError(2)
			}
			if res.Verdict != explain.Delivered {
				return exitError(1)
			}
			return nil
		},
	}
	// Flag errors are usage errors: status 2, not cobra's 1.
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return explainUsage(cmd, "%v", err) })
	fl := cmd.Flags()
	fl.StringVar(&q.SourceInstanceID, "source", "", "the source instance (i-...)")
	fl.StringVar(&q.SourceIP, "source-ip", "", "the source address, with --vpc")
	fl.StringVar(&q.VpcID, "vpc", "", "the VPC of --source-ip (vpc-...)")
	fl.StringVar(&q.EndpointID, "endpoint", "", "the VPC endpoint (vpce-...); its interface in the source's zone, else its first")
	fl.StringVar(&q.DestinationIP, "destination", "", "an endpoint interface's address in the source's VPC")
	fl.IntVar(&port, "port", 0, "the TCP port the source connects to")
	fl.StringVarP(&output, "output", "o", "text", "text or json")
	cf.register(cmd)
	return cmd
}

// explainUsage reports a mistake in the command line and ends with status 2.
func explainUsage(cmd *cobra.Command, format string, args ...any) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "privlink %s: %s\n", cmd.Name(), fmt.Sprintf(format, args...))
	return exitError(2)
}
