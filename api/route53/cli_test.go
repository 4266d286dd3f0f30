package route53_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/privlink/privlink/api/query/querytest"
	"github.com/privlink/privlink/core"
	"github.com/privlink/privlink/internal/testserver"
)

// cliZone and the types below are the members of the CLI's JSON output
// that the test reads.
type cliZone struct {
	Id, Name, CallerReference string
	Config                    struct {
		Comment     string
		PrivateZone bool
	}
	ResourceRecordSetCount int
}

type cliChange struct {
	ChangeInfo struct{ Id, Status, SubmittedAt, Comment string }
}

type cliRecordSet struct {
	Name, Type      string
	TTL             int
	ResourceRecords []struct{ Value string }
	AliasTarget     *struct {
		HostedZoneId, DNSName string
		EvaluateTargetHealth  bool
	}
}

// TestAWSCLI runs a zone's life with the AWS CLI v2 and v1: create a public
// and a private zone, change records (TXT, MX, a wildcard, an alias),
// list them in pages, fail a batch, wait for a change, delete.
func TestAWSCLI(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	boot := core.Caller{AccountID: core.BootstrapAccountID, Admin: true}
	vpc, err := s.Cloud.CreateVpc(ctx, boot, core.CreateVpcInput{CidrBlock: "10.0.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cli := range querytest.AWSCLIs(t) {
		t.Run(cli.Name, func(t *testing.T) {
			run := func(out any, args ...string) error {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				stdout, err := cli.RunAs(ctx, t, s.URL, core.BootstrapAccessKey, core.BootstrapSecretKey, append([]string{"route53"}, args...)...)
				if err != nil {
					return err
				}
				if out != nil {
					if err := json.Unmarshal(stdout, out); err != nil {
						return fmt.Errorf("aws route53 %s printed %q: %w", strings.Join(args, " "), stdout, err)
					}
				}
				return nil
			}
			must := func(out any, args ...string) {
				t.Helper()
				if err := run(out, args...); err != nil {
					t.Fatal(err)
				}
			}
			name := cli.Name + ".example.com"

			var created struct {
				Location      string
				HostedZone    cliZone
				ChangeInfo    struct{ Id, Status string }
				DelegationSet struct{ NameServers []string }
			}
			must(&created, "create-hosted-zone", "--name", name, "--caller-reference", "cli-"+cli.Name, "--hosted-zone-config", "Comment=from the CLI")
			z := created.HostedZone
			if !strings.HasPrefix(z.Id, "/hostedzone/Z") || z.Name != name+"." || z.Config.Comment != "from the CLI" || z.Config.PrivateZone ||
				z.ResourceRecordSetCount != 2 || created.ChangeInfo.Status != "PENDING" || len(created.DelegationSet.NameServers) != 4 ||
				created.Location != "https://route53.amazonaws.com/2013-04-01/hostedzone/"+strings.TrimPrefix(z.Id, "/hostedzone/") {
				t.Errorf("create-hosted-zone printed %+v", created)
			}
			zoneID := strings.TrimPrefix(z.Id, "/hostedzone/")

			batch := fmt.Sprintf(`{"Comment": "cli records", "Changes": [
				{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.%[1]s", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.1"}, {"Value": "192.0.2.2"}]}},
				{"Action": "CREATE", "ResourceRecordSet": {"Name": "%[1]s", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": "\"v=spf1 -all\""}, {"Value": "\"hello\" \"world\""}]}},
				{"Action": "CREATE", "ResourceRecordSet": {"Name": "%[1]s", "Type": "MX", "TTL": 60, "ResourceRecords": [{"Value": "10 mail.%[1]s."}]}},
				{"Action": "CREATE", "ResourceRecordSet": {"Name": "*.%[1]s", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.9"}]}},
				{"Action": "UPSERT", "ResourceRecordSet": {"Name": "alias.%[1]s", "Type": "A", "AliasTarget": {"HostedZoneId": "%[2]s", "DNSName": "www.%[1]s", "EvaluateTargetHealth": false}}}
			]}`, name, zoneID)
			var changed cliChange
			must(&changed, "change-resource-record-sets", "--hosted-zone-id", z.Id, "--change-batch", batch)
			if changed.ChangeInfo.Status != "PENDING" || changed.ChangeInfo.Comment != "cli records" {
				t.Errorf("change-resource-record-sets printed %+v", changed)
			}
			must(nil, "wait", "resource-record-sets-changed", "--id", changed.ChangeInfo.Id)
			var change cliChange
			must(&change, "get-change", "--id", changed.ChangeInfo.Id)
			if change.ChangeInfo.Status != "INSYNC" {
				t.Errorf("get-change printed %+v", change)
			}

			// The CLI pages by itself: pages of two give the whole zone.
			var listed struct{ ResourceRecordSets []cliRecordSet }
			must(&listed, "list-resource-record-sets", "--hosted-zone-id", zoneID, "--page-size", "2")
			var got []string
			for _, rs := range listed.ResourceRecordSets {
				got = append(got, rs.Name+" "+rs.Type)
			}
			want := []string{
				name + ". MX", name + ". NS", name + ". SOA", name + ". TXT",
				`\052.` + name + ". A", "alias." + name + ". A", "www." + name + ". A",
			}
			if !slices.Equal(got, want) {
				t.Errorf("list-resource-record-sets\n got %q\nwant %q", got, want)
			}
			for _, rs := range listed.ResourceRecordSets {
				switch rs.Name + " " + rs.Type {
				case name + ". TXT":
					if len(rs.ResourceRecords) != 2 || rs.ResourceRecords[1].Value != `"hello" "world"` || rs.TTL != 60 {
						t.Errorf("TXT %+v", rs)
					}
				case "alias." + name + ". A":
					if rs.AliasTarget == nil || rs.AliasTarget.HostedZoneId != zoneID || rs.AliasTarget.DNSName != "www."+name+"." || len(rs.ResourceRecords) != 0 {
						t.Errorf("alias %+v", rs)
					}
				}
			}
			// --max-items stops early and gives a token to go on from.
			var first struct {
				ResourceRecordSets []cliRecordSet
				NextToken          string
			}
			must(&first, "list-resource-record-sets", "--hosted-zone-id", zoneID, "--max-items", "3", "--page-size", "2")
			if len(first.ResourceRecordSets) != 3 || first.NextToken == "" {
				t.Fatalf("--max-items 3 printed %+v", first)
			}
			var rest struct{ ResourceRecordSets []cliRecordSet }
			must(&rest, "list-resource-record-sets", "--hosted-zone-id", zoneID, "--starting-token", first.NextToken)
			if len(rest.ResourceRecordSets) != len(want)-3 || rest.ResourceRecordSets[0].Name+" "+rest.ResourceRecordSets[0].Type != want[3] {
				t.Errorf("--starting-token printed %+v", rest)
			}

			// A failed batch: the CLI reports Route 53's code and message.
			err := run(nil, "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch",
				fmt.Sprintf(`{"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.%s", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}`, name))
			wantErr := fmt.Sprintf(": [Tried to create resource record set [name='www.%s.', type='A'] but it already exists]", name)
			if err == nil || !strings.Contains(err.Error(), "(InvalidChangeBatch) when calling the ChangeResourceRecordSets operation") || !strings.HasSuffix(err.Error(), wantErr) {
				t.Errorf("duplicate CREATE: %v\nwant InvalidChangeBatch ending %s", err, wantErr)
			}
			if err := run(nil, "delete-hosted-zone", "--id", zoneID); err == nil || !strings.Contains(err.Error(), "(HostedZoneNotEmpty)") {
				t.Errorf("delete-hosted-zone of a full zone: %v", err)
			}

			var byName struct {
				HostedZones []cliZone
				IsTruncated bool
			}
			must(&byName, "list-hosted-zones-by-name", "--dns-name", name)
			if len(byName.HostedZones) == 0 || byName.HostedZones[0].Id != z.Id {
				t.Errorf("list-hosted-zones-by-name printed %+v", byName)
			}

			// A private zone for a VPC of the caller's.
			var private struct {
				HostedZone cliZone
				VPC        struct{ VPCRegion, VPCId string }
			}
			must(&private, "create-hosted-zone", "--name", "internal."+name, "--caller-reference", "cli-private-"+cli.Name,
				"--vpc", "VPCRegion=us-east-1,VPCId="+vpc.ID, "--hosted-zone-config", "PrivateZone=true")
			if !private.HostedZone.Config.PrivateZone || private.VPC.VPCId != vpc.ID || private.VPC.VPCRegion != "us-east-1" {
				t.Errorf("private create-hosted-zone printed %+v", private)
			}
			var read struct {
				HostedZone cliZone
				VPCs       []struct{ VPCRegion, VPCId string }
			}
			must(&read, "get-hosted-zone", "--id", private.HostedZone.Id)
			if len(read.VPCs) != 1 || read.VPCs[0].VPCId != vpc.ID {
				t.Errorf("get-hosted-zone printed %+v", read)
			}
			must(nil, "delete-hosted-zone", "--id", private.HostedZone.Id)

			// Empty the public zone and delete it.
			deletes := fmt.Sprintf(`{"Changes": [
				{"Action": "DELETE", "ResourceRecordSet": {"Name": "www.%[1]s", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.2"}, {"Value": "192.0.2.1"}]}},
				{"Action": "DELETE", "ResourceRecordSet": {"Name": "%[1]s", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": "\"v=spf1 -all\""}, {"Value": "\"hello\" \"world\""}]}},
				{"Action": "DELETE", "ResourceRecordSet": {"Name": "%[1]s", "Type": "MX", "TTL": 60, "ResourceRecords": [{"Value": "10 mail.%[1]s."}]}},
				{"Action": "DELETE", "ResourceRecordSet": {"Name": "\\052.%[1]s", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.9"}]}},
				{"Action": "DELETE", "ResourceRecordSet": {"Name": "alias.%[1]s", "Type": "A", "AliasTarget": {"HostedZoneId": "%[2]s", "DNSName": "www.%[1]s.", "EvaluateTargetHealth": false}}}
			]}`, name, zoneID)
			must(nil, "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", deletes)
			var deleted cliChange
			must(&deleted, "delete-hosted-zone", "--id", z.Id)
			if !strings.HasPrefix(deleted.ChangeInfo.Id, "/change/C") {
				t.Errorf("delete-hosted-zone printed %+v", deleted)
			}
			if err := run(nil, "get-hosted-zone", "--id", zoneID); err == nil || !strings.Contains(err.Error(), "(NoSuchHostedZone)") ||
				!strings.Contains(err.Error(), "No hosted zone found with ID: "+zoneID) {
				t.Errorf("get-hosted-zone of a deleted zone: %v", err)
			}
		})
	}
}
