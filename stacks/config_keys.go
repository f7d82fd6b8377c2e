package stacks

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Key is one config key of the project's namespace (postgis-platform:).
type Key struct {
	Name     string
	Required bool
	// Secret keys are set with `pulumi config set --secret`; plain values are refused.
	Secret bool
	// Default is the value used when the key is absent ("" when none, or
	// when it follows another key: see docs/config.md).
	Default string
	// Example is a valid value, shown in the fix of an error.
	Example string
}

// Keys are every key the program reads, in the order of docs/config.md. A
// key of the project's namespace that is not here is refused.
var Keys = []Key{
	{Name: "environment", Required: true, Example: "prod"},
	{Name: "costCenter", Required: true, Example: "gis-42"},
	{Name: "production", Example: "true"},
	{Name: "offline", Default: "false", Example: "false"},
	{Name: "vpcId", Required: true, Example: "vpc-0abc123"},
	{Name: "subnetIds", Required: true, Example: "subnet-0a1,subnet-0b2"},
	{Name: "tileServerSecurityGroupId", Required: true, Example: "sg-0tiles"},
	{Name: "etlCidr", Required: true, Example: "10.20.30.0/24"},
	{Name: "egressCidr", Default: "10.0.0.0/8", Example: "10.0.0.0/8"},
	{Name: "kmsKeyId", Required: true, Example: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	{Name: "engineVersion", Default: "16", Example: "16"},
	{Name: "instanceClass", Default: "db.t4g.medium", Example: "db.t4g.medium"},
	{Name: "applyImmediately", Default: "false", Example: "true"},
	{Name: "backupRetentionDays", Default: "7", Example: "14"},
	{Name: "dbPort", Default: "5432", Example: "5432"},
	{Name: "adminUsername", Default: "postgis_admin", Example: "postgis_admin"},
	{Name: "tableOwner", Example: "gis_owner"},
	{Name: "appDatabase", Default: "gis", Example: "gis"},
	{Name: "etlRole", Default: "etl_writer", Example: "etl_writer"},
	{Name: "tileReaderRole", Default: "tile_reader", Example: "tile_reader"},
	{Name: "utilityDatabase", Default: "utility", Example: "utility"},
	{Name: "utilityRole", Default: "utility_app", Example: "utility_app"},
	{Name: "templateDatabase", Default: "tenant_template", Example: "tenant_template"},
	{Name: "loopbackLoginMaxAgeDays", Default: "30", Example: "30"},
	{Name: "tenantConnectionLimit", Default: "20", Example: "20"},
	{Name: "caBundle", Required: true, Example: "certs/eu-west-1-bundle.pem"},
	{Name: "loopbackRootCert", Required: true, Example: "/rdsdbdata/rds-metadata/ca-cert.pem"},
	{Name: "exempt", Example: "rds-backup-retention"},
	{Name: "policyLevels", Example: "rds-iam-auth=mandatory"},
	{Name: "securityGroupName", Default: "postgis", Example: "postgis"},
	{Name: "etlPassword", Required: true, Secret: true, Example: "<password>"},
	{Name: "tileReaderPassword", Required: true, Secret: true, Example: "<password>"},
	{Name: "utilityRolePassword", Required: true, Secret: true, Example: "<password>"},
}

// Namespaces other than the project's that a stack's config may use: those
// of the providers the program uses with their stack config (the default aws
// provider) and the engine's own.
var Namespaces = []string{"aws", "pulumi"}

// fixed are settings people try to set that the program never reads: the
// components enforce them.
var fixed = map[string]string{
	"storageencrypted":   "storage is always encrypted (with kmsKeyId)",
	"publiclyaccessible": "the instance is never publicly accessible",
	"mintlsversion":      "the TLS floor is enforced (TLSv1.2) by the instance's parameter group",
	"forcessl":           "TLS is always enforced (rds.force_ssl=1)",
	"deletionprotection": "deletion protection is always on (the deployer lifts it only for an allowed replacement)",
	"multiaz":            "Multi-AZ follows production",
	"cacertidentifier":   "the instance uses a current RDS CA",
	"masterpassword":     "the master password is managed by AWS in Secrets Manager",
	"adminpassword":      "the master password is managed by AWS in Secrets Manager",
	"iamauth":            "IAM authentication is judged by the rds-iam-auth policy (see policyLevels)",
	"region":             "the region is aws:region",
}

func keyByName(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// keyNames are the names of Keys.
func keyNames() []string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return names
}

// checkKeys refuses a key the program does not read: an unknown key of the
// project's namespace (naming the closest known key), and a key of any other
// namespace than Namespaces (naming the project's when the namespace is
// misspelled). keys are full keys (namespace:name).
func (r *reader) checkKeys(keys []string) {
	sort.Strings(keys)
	for _, full := range keys {
		ns, name, ok := strings.Cut(full, ":")
		if !ok {
			// The CLI puts a key without a namespace in the project's.
			ns, name = Project, full
			if _, twice := r.all[Project+":"+full]; twice {
				// Checked would be one of the two, applied maybe the other.
				r.add(&ConfigError{Key: full, Stack: r.stack,
					Problem: "is set twice, as " + full + " and as " + Project + ":" + full + " (the CLI reads both as one key)",
					Fix:     "keep only " + Project + ":" + full + " in " + r.file()})
				continue
			}
		}
		switch {
		case ns == Project:
			if _, known := keyByName(name); !known {
				r.unknownKey(ns, name, full)
			}
		case contains(Namespaces, ns):
		case ns == "postgresql":
			r.add(&ConfigError{Key: full, Stack: r.stack,
				Problem: "is ignored: the program's postgresql provider is configured from " + Project + ":adminUsername, caBundle and dbPort, never from postgresql: keys",
				Fix:     r.rmHint(full)})
		default:
			if closeTo(ns, Project) {
				suggestion := Project + ":" + name
				if k, ok := closest(name, keyNames()); ok {
					suggestion = Project + ":" + k
				}
				r.add(&ConfigError{Key: full, Stack: r.stack,
					Problem: fmt.Sprintf("is in namespace %q, which this program does not read (did you mean %s?)", ns, suggestion),
					Fix:     fmt.Sprintf("rename it to %s in %s", suggestion, r.file())})
				continue
			}
			problem := fmt.Sprintf("is in namespace %q, which this program does not read (it reads %s:, %s:)", ns, Project, strings.Join(Namespaces, ":, "))
			for _, n := range Namespaces {
				if closeTo(ns, n) {
					problem = fmt.Sprintf("is in namespace %q, which this program does not read (did you mean %s:%s?)", ns, n, name)
				}
			}
			r.add(&ConfigError{Key: full, Stack: r.stack, Problem: problem, Fix: r.rmHint(full)})
		}
	}
}

func (r *reader) unknownKey(ns, name, full string) {
	shown := ns + ":" + name
	if k, ok := closest(name, keyNames()); ok {
		r.add(&ConfigError{Key: shown, Stack: r.stack,
			Problem: fmt.Sprintf("is not a config key of this project (did you mean %s?)", k),
			Fix:     fmt.Sprintf("rename it to %s:%s in %s", Project, k, r.file())})
		return
	}
	problem := "is not a config key of this project (the keys are listed in docs/config.md)"
	if why, ok := fixed[strings.ToLower(name)]; ok {
		problem = "is not a config key: " + why
	}
	r.add(&ConfigError{Key: shown, Stack: r.stack, Problem: problem, Fix: r.rmHint(full)})
}

// closest is the candidate nearest to s (case-insensitive edit distance),
// when it is near enough to be a misspelling.
func closest(s string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := distance(strings.ToLower(s), strings.ToLower(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best, bestD >= 0 && bestD <= maxTypos(best)
}

// closeTo reports whether s is a misspelling of want (or want itself in
// other case or punctuation).
func closeTo(s, want string) bool {
	norm := func(x string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, x)
	}
	return norm(s) == norm(want) || distance(strings.ToLower(s), strings.ToLower(want)) <= maxTypos(want)
}

// maxTypos is the edit distance still read as a misspelling of s.
func maxTypos(s string) int {
	if n := len(s) / 4; n > 2 {
		return n
	}
	if len(s) <= 3 {
		return 1
	}
	return 2
}

// distance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and transpositions of neighbours).
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
