// Package resolver answers DNS queries as AWS's resolvers do: the Route 53
// Resolver of each VPC (at the VPC's CIDR base +2) and public DNS, as seen
// from outside any VPC. Answers come from a View, an immutable index built
// from a core.Snapshot and swapped whole when the state changes, so a query
// never waits for the store and a restart loses nothing.
//
// A VPC's resolver looks a name up in this order, the first match deciding:
//
//  1. the private hosted zones associated with the VPC and the private DNS
//     names of the services its endpoints reach (AWS keeps each of those in a
//     private hosted zone of its own), the longest zone name winning; within
//     the zone a missing name is NXDOMAIN and a missing type NODATA;
//  2. the names EC2 gives the VPC's interfaces (ip-10-0-1-5.ec2.internal) and
//     their reverse names;
//  3. the public view: endpoint DNS names, load balancer DNS names and public
//     hosted zones. Anything else is NXDOMAIN: the lab has no internet.
//
// Steps 1 and 2 need both of the VPC's DNS attributes, as AWS requires for
// private hosted zones, private DNS names and EC2's names. Without
// enableDnsSupport a VPC has no resolver at all: queries go unanswered and
// clients time out, as on AWS.
//
// CNAMEs are followed within the view that was asked, and alias records are
// resolved when the view is built. The names AWS makes have a TTL of 60
// seconds; hosted zones' records keep theirs.
//
// A Server answers one view over UDP and TCP: per datagram, parse → look up
// in the current View → truncate to what the client takes → pack, with the
// datagrams that arrived together read and answered in one system call
// each way.
package resolver
