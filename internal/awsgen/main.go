// Command awsgen generates the Go request and response shapes of AWS Query
// protocol operations (EC2 Query and awsquery) from AWS's api-2.json models,
// for the api/query codec.
//
// It emits the input and output structure of each named operation, every
// structure those reach, and a table of the operations:
//
//	awsgen [-model ec2/2016-11-15 | -model path/to/api-2.json] [-pkg ec2] [-o zz_shapes.go] Operation...
//
// A -model of the form service/version names a model inside the
// github.com/aws/aws-sdk-go module, found in the module cache (and
// downloaded there with `go mod download` when missing). The v1 SDK is read
// as data and never imported, so it stays out of go.mod. Operations may be
// separate arguments or comma-separated. The usual caller is a go:generate
// line, which sets -pkg through $GOPACKAGE.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// sdkModule is the module whose models/apis directory holds the models.
const sdkModule = "github.com/aws/aws-sdk-go@v1.55.8"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "awsgen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("awsgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelFlag := fs.String("model", "", "api-2.json file, or service/version inside "+sdkModule+"'s models/apis")
	pkg := fs.String("pkg", os.Getenv("GOPACKAGE"), "package name of the generated file")
	out := fs.String("o", "", "output file (default stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: awsgen -model ec2/2016-11-15 [-pkg name] [-o file] Operation...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ops []string
	for _, a := range fs.Args() {
		for op := range strings.SplitSeq(a, ",") {
			if op = strings.TrimSpace(op); op != "" {
				ops = append(ops, op)
			}
		}
	}
	switch {
	case *modelFlag == "":
		return errors.New("-model is required")
	case *pkg == "":
		return errors.New("-pkg is required outside go generate")
	case len(ops) == 0:
		return errors.New("no operations given")
	}
	path, source, err := findModel(*modelFlag)
	if err != nil {
		return err
	}
	m, err := loadModel(path)
	if err != nil {
		return err
	}
	src, err := generate(m, *pkg, source, ops)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(src)
		return err
	}
	return os.WriteFile(*out, src, 0o644)
}

// findModel resolves -model to a file, and to the name the generated header
// shows (stable across machines).
func findModel(arg string) (path, source string, err error) {
	if strings.HasSuffix(arg, ".json") {
		source = filepath.Base(arg)
		if _, rel, ok := strings.Cut(filepath.ToSlash(arg), "/models/apis/"); ok {
			source = "models/apis/" + rel
		}
		return arg, source, nil
	}
	rel := filepath.Join("models", "apis", filepath.FromSlash(arg), "api-2.json")
	source = sdkModule + " " + filepath.ToSlash(rel)
	cache, err := goCommand("env", "GOMODCACHE")
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(strings.TrimSpace(string(cache)), sdkModule, rel)
	if _, err := os.Stat(path); err == nil {
		return path, source, nil
	}
	// Not cached: download the module without touching any go.mod.
	js, err := goCommand("mod", "download", "-json", sdkModule)
	if err != nil {
		return "", "", fmt.Errorf("model %s not in the module cache: %w", arg, err)
	}
	var dl struct{ Dir, Error string }
	if err := json.Unmarshal(js, &dl); err != nil {
		return "", "", fmt.Errorf("go mod download: %w", err)
	}
	if dl.Error != "" {
		return "", "", fmt.Errorf("go mod download %s: %s", sdkModule, dl.Error)
	}
	return filepath.Join(dl.Dir, rel), source, nil
}

// goCommand runs the go tool outside any module, so that it never edits the
// caller's go.mod or go.sum.
func goCommand(args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
