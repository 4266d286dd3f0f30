package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/privlink/privlink/api/admin"
	"github.com/privlink/privlink/core"
)

const defaultEndpoint = "http://127.0.0.1:4580"

// clientFlags are the flags of every subcommand that talks to a server.
type clientFlags struct {
	endpoint string
	region   string
	profile  string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	def := os.Getenv("PRIVLINK_ENDPOINT_URL")
	if def == "" {
		def = defaultEndpoint
	}
	cmd.Flags().StringVar(&f.endpoint, "endpoint-url", def, "privlink server URL (env PRIVLINK_ENDPOINT_URL)")
	cmd.Flags().StringVar(&f.region, "region", "", "region to sign for (default: AWS_REGION, the profile's, or us-east-1)")
	cmd.Flags().StringVar(&f.profile, "profile", "", "AWS credentials profile (default: AWS_PROFILE or default)")
}

// client builds an admin client with the usual AWS credentials: the
// environment, then the shared credentials file, then the bootstrap ones.
func (f *clientFlags) client() *admin.Client {
	profile := f.profile
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		creds := readINI(envOr("AWS_SHARED_CREDENTIALS_FILE", homeFile(".aws", "credentials")))[profile]
		key, secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
	}
	if key == "" || secret == "" {
		key, secret = core.BootstrapAccessKey, core.BootstrapSecretKey
	}
	region := f.region
	if region == "" {
		region = envOr("AWS_REGION", os.Getenv("AWS_DEFAULT_REGION"))
	}
	if region == "" {
		section := "profile " + profile
		if profile == "default" {
			section = "default"
		}
		region = readINI(envOr("AWS_CONFIG_FILE", homeFile(".aws", "config")))[section]["region"]
	}
	if region == "" {
		region = "us-east-1"
	}
	return &admin.Client{Endpoint: f.endpoint, Region: region, AccessKey: key, SecretKey: secret}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func homeFile(parts ...string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(append([]string{home}, parts...)...)
}

// readINI reads an AWS config or credentials file: sections of key = value.
// A missing file is empty.
func readINI(path string) map[string]map[string]string {
	out := map[string]map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if out[section] == nil {
				out[section] = map[string]string{}
			}
			out[section][strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out
}
