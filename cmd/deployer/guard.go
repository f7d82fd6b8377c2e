package main

import (
	"github.com/spf13/cobra"

	"github.com/postgis-platform/deployer/automation"
)

// guardFlags are the allow lists and the engine policy pack.
type guardFlags struct {
	allowReplace, allowDelete []string
	policyPack                string
}

func (g *guardFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&g.allowReplace, "allow-replace", nil, "URN or type token that may be replaced (repeatable)")
	cmd.Flags().StringArrayVar(&g.allowDelete, "allow-delete", nil, "URN or type token that may be deleted (repeatable)")
	cmd.Flags().StringVar(&g.policyPack, "policy-pack", "", "also serve this policy pack folder to the engine (policypack/pack; its analyzer is found on PATH or in .tools/policy, or built from the checkout); the deployer's own gate runs either way")
}

// check refuses a --policy-pack that is not a pack's folder, before anything runs.
func (g *guardFlags) check() error {
	if g.policyPack == "" {
		return nil
	}
	_, err := automation.CheckPolicyPack(g.policyPack)
	return err
}

func (g *guardFlags) allow() automation.Allow {
	return automation.Allow{Replace: g.allowReplace, Delete: g.allowDelete}
}
