// Package statestore reads and removes the stack locks of a self-managed
// Pulumi state backend (file://, s3://, postgres://) through the storage the
// Pulumi CLI uses for them: gocloud.dev/blob for files and S3, and the CLI's
// PostgreSQL table. deployer uses it to find and clear locks a killed run left.
package statestore
