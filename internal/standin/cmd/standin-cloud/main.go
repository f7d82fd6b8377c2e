// Command standin-cloud edits the AWS stand-in's cloud file behind the
// engine's back, the way a console user would: for the demo and by hand.
//
//	standin-cloud list
//	standin-cloud set ID KEY=VALUE...      (VALUE is JSON, or a plain string)
//	standin-cloud add-rule GROUP-ID CIDR PORT [RULE-ID]
//	standin-cloud delete ID
//	standin-cloud find TYPE KEY=VALUE      (prints the IDs that match)
//	standin-cloud upgrade-minor DB-ID VERSION
//	                                       (AWS's automatic minor upgrade)
//	standin-cloud maintenance DB-ID        (the maintenance window: pending
//	                                       modifications apply)
//	standin-cloud rotate-master-secret DB-ID
//	                                       (Secrets Manager rotates the managed
//	                                       master password)
//	standin-cloud master-password DB-ID    (prints the managed master secret's
//	                                       password)
//	standin-cloud network VPC-ID SUBNET-ID=AZ... [SG-ID...]
//	                                       (the VPC, subnets and other teams'
//	                                       groups that exist before a stack)
//
// The cloud folder comes from $DEPLOYER_STANDIN_AWS_DIR.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "standin-cloud:", err)
		os.Exit(1)
	}
}

func value(s string) any {
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return s
}

func run(args []string) error {
	dir := os.Getenv(aws.DirEnv)
	if dir == "" {
		return fmt.Errorf("%s is not set", aws.DirEnv)
	}
	store := standin.Store{Dir: dir}
	if len(args) == 0 {
		return fmt.Errorf("usage: standin-cloud list | set ID KEY=VALUE... | add-rule GROUP-ID CIDR PORT [RULE-ID] | delete ID | find TYPE KEY=VALUE | upgrade-minor DB-ID VERSION | maintenance DB-ID | rotate-master-secret DB-ID | master-password DB-ID | network VPC-ID SUBNET-ID=AZ... [SG-ID...]")
	}
	command, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", args[0])
	}
	return command(store, args)
}

// commands are the cloud edits by name.
var commands = map[string]func(standin.Store, []string) error{
	"list":                 cmdList,
	"set":                  cmdSet,
	"add-rule":             cmdAddRule,
	"delete":               cmdDelete,
	"upgrade-minor":        cmdUpgradeMinor,
	"maintenance":          cmdMaintenance,
	"rotate-master-secret": cmdRotateMasterSecret,
	"master-password":      cmdMasterPassword,
	"network":              cmdNetwork,
	"find":                 cmdFind,
}
