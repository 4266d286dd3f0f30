package main

import (
	"fmt"
	"os"
	"sort"
)

// workers are the load generators and servers that run inside lab
// instances: `bench worker NAME ARGS…`, started through `privlink exec`.
// Each file registers its own in an init function. A worker prints its
// result as one JSON document on standard output and exits 0, or says what
// went wrong on standard error and exits non-zero.
var workers = map[string]func(args []string) error{}

func worker(args []string) int {
	if len(args) == 0 || workers[args[0]] == nil {
		names := make([]string, 0, len(workers))
		for n := range workers {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: bench worker NAME [ARGS]; NAME is one of %v\n", names)
		return 2
	}
	if err := workers[args[0]](args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "worker %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
