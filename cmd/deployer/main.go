// Command deployer stands up and guards PostGIS databases on AWS from CI:
// a guarded non-destructive `up`, a refresh-only `drift` audit, and live
// database checks. Exit codes: 0 clean, 1 error, 2 changes or drift, 3 blocked.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
