package stacks

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The reader: one stack's raw values, their problems, and the typed reads
// every key goes through.

// reader reads one stack's config and collects its problems.
type reader struct {
	stack       string
	get         func(key string) (Value, bool)
	secretKnown bool
	all         map[string]Value // every key, when known (Check)
	errs        []error
	failed      map[string]bool
}

func (r *reader) stackName() string {
	if r.stack == "" {
		return "<stack>"
	}
	return r.stack
}

func (r *reader) file() string { return "stacks/Pulumi." + r.stackName() + ".yaml" }

func (r *reader) add(e *ConfigError) {
	if r.failed == nil {
		r.failed = map[string]bool{}
	}
	r.failed[e.Key] = true
	r.errs = append(r.errs, e)
}

// fail records a problem with key and the usual fix: set a valid value (or,
// for an optional key, remove it for its default).
func (r *reader) fail(key, problem string) {
	r.add(&ConfigError{Key: key, Problem: problem, Fix: r.setHint(key), Stack: r.stack})
}

func (r *reader) setHint(key string) string {
	k, _ := keyByName(key)
	flag, example := "", k.Example
	if k.Secret {
		flag, example = " --secret", `"$`+envName(key)+`"`
	} else if strings.ContainsAny(example, " <>$") {
		example = "'" + example + "'"
	}
	hint := fmt.Sprintf("`pulumi config set%s %s %s --stack %s`", flag, key, example, r.stackName())
	if !k.Required && !k.Secret {
		def := k.Default
		switch key {
		case "tableOwner":
			def = "adminUsername"
		case "production":
			def = "environment = prod"
		case "exempt", "policyLevels":
			def = "none"
		}
		hint += fmt.Sprintf(", or `pulumi config rm %s --stack %s` for the default (%s)", key, r.stackName(), def)
	}
	if k.Secret {
		return hint + fmt.Sprintf(" (the CLI encrypts it; for a new stack, `pulumi stack init %s` first)", r.stackName())
	}
	return hint + fmt.Sprintf(" (or edit %s:%s in %s)", Project, key, r.file())
}

func (r *reader) rmHint(full string) string {
	return fmt.Sprintf("remove it with `pulumi config rm %s --stack %s` (or delete it from %s)", full, r.stackName(), r.file())
}

// envName is the conventional variable of a secret in CI (ETL_PASSWORD).
func envName(key string) string {
	var b strings.Builder
	for i, c := range key {
		if c >= 'A' && c <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(c)
	}
	return strings.ToUpper(b.String())
}

func (r *reader) sorted() []error {
	sort.SliceStable(r.errs, func(i, j int) bool { return r.errs[i].Error() < r.errs[j].Error() })
	return r.errs
}

// explicit reports whether the stack sets key (rather than taking its default).
func (r *reader) explicit(key string) bool {
	_, ok := r.get(key)
	return ok
}

// raw is a plain key's value with $VAR expanded; ok is false when the key is
// absent or its value was refused (then a problem is recorded).
func (r *reader) raw(key string) (string, bool) {
	v, ok := r.get(key)
	if !ok {
		return "", false
	}
	switch {
	case v.Structured:
		r.fail(key, "is a YAML list or map; write it as one string")
		return "", false
	case v.Secret:
		r.add(&ConfigError{Key: key, Stack: r.stack, Problem: "is stored as a secret, but it is plain config (it is checked before every run and shown in reports)",
			Fix: fmt.Sprintf("`pulumi config rm %s --stack %s`, then %s", key, r.stackName(), r.setHint(key))})
		return "", false
	case v.Written != "":
		r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is written %s, which YAML reads as the number %s", v.Written, v.Value),
			Fix: fmt.Sprintf("quote it in %s: %s:%s: \"%s\"", r.file(), Project, key, v.Written)})
		return "", false
	case strings.TrimSpace(v.Value) == "":
		r.fail(key, "is empty")
		return "", false
	}
	s := v.Value
	if strings.HasPrefix(s, "$") {
		name, ok := envReference(s)
		if !ok {
			r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is %s: only a whole $DEPLOYER_… variable that holds no secret may be read from the environment (a preview's report would show its value)", v.Value),
				Fix: fmt.Sprintf("write the value itself, or export it as a DEPLOYER_… variable and set %s:%s: $DEPLOYER_…", Project, key)})
			return "", false
		}
		s = os.Getenv(name)
		if strings.TrimSpace(s) == "" {
			r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is %s, which is empty: the variable is not set in the deployer's environment", v.Value),
				Fix: fmt.Sprintf("export the variable (scripts/pg writes the local cluster's to its env file), or %s", r.setHint(key))})
			return "", false
		}
	}
	return s, true
}

// envReference is the variable a "$NAME" or "${NAME}" value names, when the
// config may read it: a whole value, a name of the deployer's own
// (DEPLOYER_…), and no name that says it holds a secret. Any other would let
// whoever edits a stack file print the runner's secrets (a CI token, the
// passphrase) into a preview's reports.
func envReference(s string) (string, bool) {
	name := strings.TrimPrefix(s, "$")
	if strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}") {
		name = name[1 : len(name)-1]
	}
	if !envVarName.MatchString(name) || !strings.HasPrefix(name, "DEPLOYER_") {
		return "", false
	}
	for _, w := range []string{"PASS", "PWD", "SECRET", "TOKEN", "CRED", "PRIVATE", "KEY", "AUTH", "SESSION", "COOKIE", "SALT"} {
		if strings.Contains(name, w) {
			return "", false
		}
	}
	return name, true
}

var envVarName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// str is key's value, or def when it is absent or refused.
func (r *reader) str(key, def string) string {
	if v, ok := r.raw(key); ok {
		return v
	}
	return def
}

// required is key's value; an absent key is a problem.
func (r *reader) required(key string) string {
	v, ok := r.raw(key)
	if !ok && !r.failed[key] {
		r.fail(key, "is missing")
	}
	return v
}

func (r *reader) boolean(key string, def bool) bool {
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(key, fmt.Sprintf("is %q, not true or false", v))
		return def
	}
	return b
}

func (r *reader) integer(key string, def, lo, hi int, what string) int {
	if w, ok := r.get(key); ok && w.Written != "" && !w.Structured && !w.Secret {
		// Quoting it would keep the text, which is no number either.
		r.add(&ConfigError{Key: key, Stack: r.stack, Problem: fmt.Sprintf("is written %s, which YAML reads as the number %s", w.Written, w.Value),
			Fix: fmt.Sprintf("write the number in plain decimal digits in %s, e.g. %s:%s: %s if %s is what you meant", r.file(), Project, key, w.Value, w.Value)})
		return def
	}
	v, ok := r.raw(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(key, fmt.Sprintf("is %q, not %s (%d-%d)", v, what, lo, hi))
		return def
	}
	return n
}
