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
	"sort"
	"strconv"
	"strings"

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
		return fmt.Errorf("usage: standin-cloud list | set ID KEY=VALUE... | add-rule GROUP-ID CIDR PORT [RULE-ID] | delete ID | find TYPE KEY=VALUE | upgrade-minor DB-ID VERSION | maintenance DB-ID | network VPC-ID SUBNET-ID=AZ... [SG-ID...]")
	}
	switch args[0] {
	case "list":
		return store.View(func(c *standin.Cloud) error {
			ids := make([]string, 0, len(c.Objects))
			for id := range c.Objects {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				fmt.Printf("%s\t%s\n", id, c.Objects[id].Type)
			}
			return nil
		})
	case "set":
		if len(args) < 3 {
			return fmt.Errorf("usage: set ID KEY=VALUE...")
		}
		return store.Update(func(c *standin.Cloud) error {
			o, ok := c.Objects[args[1]]
			if !ok {
				return fmt.Errorf("no object %s", args[1])
			}
			for _, kv := range args[2:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("%q is not KEY=VALUE", kv)
				}
				o.Props[k] = value(v)
			}
			return nil
		})
	case "add-rule":
		if len(args) < 4 {
			return fmt.Errorf("usage: add-rule GROUP-ID CIDR PORT [RULE-ID]")
		}
		port, err := strconv.Atoi(args[3])
		if err != nil {
			return fmt.Errorf("port %q: %v", args[3], err)
		}
		id := "sgr-" + standin.RandHex(17)
		if len(args) > 4 {
			id = args[4]
		}
		err = store.Update(func(c *standin.Cloud) error {
			if g, ok := c.Objects[args[1]]; !ok || g.Type != aws.TypeSecurityGroup {
				return fmt.Errorf("no security group %s", args[1])
			}
			c.Objects[id] = &standin.Object{Type: aws.TypeIngressRule, ID: id, Props: map[string]any{
				"securityGroupId": args[1], "ipProtocol": "tcp", "fromPort": float64(port), "toPort": float64(port),
				"cidrIpv4": args[2], "description": "added in the console",
			}}
			return nil
		})
		if err == nil {
			fmt.Println(id)
		}
		return err
	case "delete":
		if len(args) != 2 {
			return fmt.Errorf("usage: delete ID")
		}
		return store.Update(func(c *standin.Cloud) error {
			if _, ok := c.Objects[args[1]]; !ok {
				return fmt.Errorf("no object %s", args[1])
			}
			delete(c.Objects, args[1])
			return nil
		})
	case "upgrade-minor":
		if len(args) != 3 {
			return fmt.Errorf("usage: upgrade-minor DB-ID VERSION (AWS's automatic minor version upgrade)")
		}
		return store.Update(func(c *standin.Cloud) error { return aws.UpgradeMinor(c, args[1], args[2]) })
	case "maintenance":
		if len(args) != 2 {
			return fmt.Errorf("usage: maintenance DB-ID (the maintenance window: RDS applies the pending modifications)")
		}
		return store.Update(func(c *standin.Cloud) error {
			applied, err := aws.RunMaintenance(c, args[1])
			switch {
			case err == nil && len(applied) == 0:
				fmt.Printf("%s: nothing pending\n", args[1])
			case err == nil:
				fmt.Printf("%s: applied %s\n", args[1], strings.Join(applied, ", "))
			}
			return err
		})
	case "network":
		if len(args) < 2 {
			return fmt.Errorf("usage: network VPC-ID SUBNET-ID=AZ... [SG-ID...]")
		}
		n := aws.Network{VpcID: args[1], Subnets: map[string]string{}}
		for _, a := range args[2:] {
			if id, az, ok := strings.Cut(a, "="); ok {
				n.Subnets[id] = az
			} else {
				n.Groups = append(n.Groups, a)
			}
		}
		return store.Update(func(c *standin.Cloud) error { return aws.Seed(c, n) })
	case "find":
		if len(args) != 3 {
			return fmt.Errorf("usage: find TYPE KEY=VALUE")
		}
		k, v, _ := strings.Cut(args[2], "=")
		return store.View(func(c *standin.Cloud) error {
			for _, o := range c.OfType(args[1]) {
				if fmt.Sprint(o.Props[k]) == v {
					fmt.Println(o.ID)
				}
			}
			return nil
		})
	}
	return fmt.Errorf("unknown command %q", args[0])
}
