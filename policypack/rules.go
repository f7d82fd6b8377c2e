// Package policypack holds the hardened baseline as policies: pure functions
// over a resource's type token and properties. The same rules run in the
// Pulumi engine as a policy pack (see analyzer/) and in the deployer's own
// gates over a preview's planned resources and a drift audit's live state.
package policypack
