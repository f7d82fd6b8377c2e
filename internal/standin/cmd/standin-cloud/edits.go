package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/postgis-platform/deployer/internal/standin"
	"github.com/postgis-platform/deployer/internal/standin/aws"
)

func cmdList(store standin.Store, args []string) error {
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
}

func cmdSet(store standin.Store, args []string) error {
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
}

func cmdAddRule(store standin.Store, args []string) error {
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
}

func cmdDelete(store standin.Store, args []string) error {
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
}

func cmdNetwork(store standin.Store, args []string) error {
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
}

func cmdFind(store standin.Store, args []string) error {
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
