// Package automation runs the deployer's sequences (Up, Preview, Drift,
// Refresh, Verify, Reconcile, Rotate, Unlock, PauseStack, ResumeStack) on stacks through the Pulumi
// Automation API and the Pulumi CLI.
//
// Each sequence is a session (session.go): one stack's settings, opened
// stack, options, logger and report, run as a short script of steps, each a
// method that returns an error. finish maps the first error to the stack's
// Result and exit code; StackReport.Err keeps the error for errors.Is
// (ErrDestructiveChange, ErrDrift, ErrConfig, ...). Settings.Program makes
// the stack program each step needs (default stacks.Program).
//
// Where things are:
//
//   - the sequences: up.go, preview.go, drift.go, refresh.go, verify.go,
//     reconcile.go, rotate.go, unlock.go; fleets of stacks: fleet.go;
//   - opening a stack and checking its config: open.go, workspace.go,
//     backend.go, cli.go (finding the CLI);
//   - the engine passes and what they read: plan.go (a preview's plan),
//     drift.go (a refresh's drift, the live rules and the database audit);
//   - the judges: guard.go (deletes and replacements), analyzer.go and
//     policypack (the policy gate), unmanaged.go (rules made by hand);
//   - changing state safely: protect.go (protection lifted for an allowed
//     replacement), backup.go (state backups, refreshes that write state),
//     deployment.go (editing a state export), retired.go, pending.go (what
//     RDS holds for its maintenance window), credentials.go (following a
//     rotated master password), lock.go and cancel.go;
//   - the report: report.go (JSON, exit codes), markdown.go (step summaries
//     and one pull-request comment per stack, by its marker);
//   - from pull request to merge: savedplan.go (preview's SavePlan, up's
//     WithPlan); fleets over several runners: shard.go and merge.go; known
//     drift: driftignore.go; a stack paused for a recovery: pause.go.
package automation
