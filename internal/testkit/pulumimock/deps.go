package pulumimock

import "strings"

// DependsOnName reports whether the resource lists, among its explicit
// dependencies, a resource whose URN ends in ::name.
func (res Resource) DependsOnName(name string) bool {
	if res.Opts.RegisterRPC == nil {
		return false
	}
	for _, urn := range res.Opts.RegisterRPC.GetDependencies() {
		if strings.HasSuffix(urn, "::"+name) {
			return true
		}
	}
	return false
}

// Protected reports whether the resource was registered with protect.
func (res Resource) Protected() bool {
	return res.Opts.RegisterRPC != nil && res.Opts.RegisterRPC.GetProtect()
}

// ProviderRef is the provider reference the resource was registered with.
func (res Resource) ProviderRef() string { return res.Opts.Provider }
