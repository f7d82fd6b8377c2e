// Package sqlfuncs holds the utility database's SECURITY DEFINER functions
// (create_role, create_database, secure_database) as embedded SQL, with the
// definitions the Pulumi components register, an installer over pgx for
// programs that do not use Pulumi, and a checker that compares the catalog
// with the definitions.
package sqlfuncs

import (
	"bufio"
	"embed"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// Options names the objects of one utility database. Zero values take the
// defaults; every name must be a plain lower-case identifier.
type Options struct {
	// Schema holding the functions (default "utility").
	Schema string
	// DblinkSchema is the locked schema holding the dblink extension
	// (default "utility_dblink").
	DblinkSchema string
	// Server is the loopback foreign server dblink uses (default "utility_loopback").
	Server string
	// TemplateDB is the locked template new databases are cloned from
	// (default "tenant_template").
	TemplateDB string
	// UtilityRole is the only role allowed to call the functions (default "utility_app").
	UtilityRole string
	// TenantGroup is the NOLOGIN role every tenant role made by create_role
	// belongs to; only its members can own tenant databases (default
	// UtilityRole + "_tenants").
	TenantGroup string
	// Owner is the NOLOGIN role that owns the functions when they are
	// installed for a stack (PrepareOwner; default UtilityRole + "_owner").
	// It reaches the loopback server as one of its two logins,
	// LoopbackLogins, never as the admin.
	Owner string
	// TenantConnectionLimit is the CONNECTION LIMIT of each tenant role
	// create_role makes (1 to 10000; default 20), so that no tenant can take
	// the sessions every other tenant and onboarding need. Roles made before
	// keep theirs.
	TenantConnectionLimit int
}

// Defaults of Options.
const (
	DefaultSchema       = "utility"
	DefaultDblinkSchema = "utility_dblink"
	DefaultServer       = "utility_loopback"
	DefaultTemplateDB   = "tenant_template"
	DefaultUtilityRole  = "utility_app"
	// TenantGroupSuffix makes the default TenantGroup from the UtilityRole.
	TenantGroupSuffix = "_tenants"
	// OwnerSuffix makes the default Owner from the UtilityRole.
	OwnerSuffix = "_owner"
	// DefaultTenantConnectionLimit and MaxTenantConnectionLimit bound
	// Options.TenantConnectionLimit.
	DefaultTenantConnectionLimit = 20
	MaxTenantConnectionLimit     = 10000
)

// LockClass is the first key of the advisory locks the functions take; the
// second is hashtext of 'database:<name>', 'role:<name>' or
// 'owner:<tenant>'. An operator holding one holds that step of onboarding.
const LockClass = 73541

var (
	identPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	namePattern  = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// WithDefaults fills zero fields.
func (o Options) WithDefaults() Options {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&o.Schema, DefaultSchema)
	def(&o.DblinkSchema, DefaultDblinkSchema)
	def(&o.Server, DefaultServer)
	def(&o.TemplateDB, DefaultTemplateDB)
	def(&o.UtilityRole, DefaultUtilityRole)
	def(&o.TenantGroup, o.UtilityRole+TenantGroupSuffix)
	def(&o.Owner, o.UtilityRole+OwnerSuffix)
	if o.TenantConnectionLimit == 0 {
		o.TenantConnectionLimit = DefaultTenantConnectionLimit
	}
	return o
}

// Validate checks every name (after defaults).
func (o Options) Validate() error {
	o = o.WithDefaults()
	for _, f := range []struct{ field, v string }{
		{"Schema", o.Schema}, {"DblinkSchema", o.DblinkSchema}, {"Server", o.Server},
		{"TemplateDB", o.TemplateDB}, {"UtilityRole", o.UtilityRole}, {"TenantGroup", o.TenantGroup},
		{"Owner", o.Owner}, {"Owner (its login " + o.LoopbackLogins()[1] + ")", o.LoopbackLogins()[1]},
	} {
		if !identPattern.MatchString(f.v) || strings.HasPrefix(f.v, "pg_") {
			return fmt.Errorf("sqlfuncs: %s %q must be a lower-case identifier (letters, digits, _; at most 63 bytes; no pg_ prefix)", f.field, f.v)
		}
	}
	if o.TenantConnectionLimit < 1 || o.TenantConnectionLimit > MaxTenantConnectionLimit {
		return fmt.Errorf("sqlfuncs: TenantConnectionLimit %d must be between 1 and %d (0: the default, %d)", o.TenantConnectionLimit, MaxTenantConnectionLimit, DefaultTenantConnectionLimit)
	}
	return nil
}

// Arg is one function argument (mode IN).
type Arg struct {
	Name    string
	Type    string
	Default string // SQL expression, "" for none
}

// Function is one utility function as the pulumi-postgresql Function
// resource models it.
type Function struct {
	Schema          string
	Name            string
	Args            []Arg
	Returns         string
	Language        string
	SecurityDefiner bool
	// Body is the text between $function$ markers, as stored in pg_proc.prosrc.
	Body string
	// Callable says whether the utility role may EXECUTE it (false for the
	// internal helper).
	Callable bool
	// Doc is the function's header comment.
	Doc string
	// Volatility (default VOLATILE), Parallel (default UNSAFE) and Strict,
	// as the provider's function resource takes them; the utility functions
	// use the defaults.
	Volatility, Parallel string
	Strict               bool
}

// Signature is schema.name(type, …), as to_regprocedure and GRANT take it.
func (f Function) Signature() string {
	types := make([]string, len(f.Args))
	for i, a := range f.Args {
		types[i] = a.Type
	}
	return fmt.Sprintf("%s.%s(%s)", f.Schema, f.Name, strings.Join(types, ", "))
}

// CreateSQL renders the statement the pulumi-postgresql provider (v3.17.0,
// terraform-provider-postgresql v1.26.0, createFunction) issues for this
// function: no SET clause, non-default volatility, parallel and strictness
// spelled out, the body between $function$ markers.
func (f Function) CreateSQL(replace bool) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if replace {
		b.WriteString(" OR REPLACE ")
	}
	fmt.Fprintf(&b, "FUNCTION %s.%s (", quoteIdent(f.Schema), quoteIdent(f.Name))
	for i, a := range f.Args {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    IN %s %s", a.Name, a.Type)
		if a.Default != "" {
			fmt.Fprintf(&b, " DEFAULT %s", a.Default)
		}
	}
	if len(f.Args) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, ")\nRETURNS %s\nLANGUAGE %s", f.Returns, f.Language)
	if f.Volatility != "" && f.Volatility != "VOLATILE" {
		b.WriteString("\n" + f.Volatility)
	}
	if f.SecurityDefiner {
		b.WriteString("\nSECURITY DEFINER")
	}
	if f.Parallel != "" && f.Parallel != "UNSAFE" {
		b.WriteString("\nPARALLEL " + f.Parallel)
	}
	if f.Strict {
		b.WriteString("\nSTRICT")
	}
	fmt.Fprintf(&b, "\nAS $function$%s$function$;", f.Body)
	return b.String()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Definitions returns the utility functions for o, the helper first (the
// others call it), in a stable order.
func Definitions(o Options) ([]Function, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	repl := strings.NewReplacer(
		"{{schema}}", o.Schema,
		"{{schema_literal}}", quoteLiteral(o.Schema),
		"{{dblink}}", o.DblinkSchema,
		"{{server_literal}}", quoteLiteral(o.Server),
		"{{template_literal}}", quoteLiteral(o.TemplateDB),
		"{{tenant_group_literal}}", quoteLiteral(o.TenantGroup),
		"{{utility_role_literal}}", quoteLiteral(o.UtilityRole),
		"{{lock_class}}", fmt.Sprint(LockClass),
		"{{tenant_connection_limit}}", fmt.Sprint(o.TenantConnectionLimit),
		"{{owner_literal}}", quoteLiteral(o.Owner),
		"{{login_a_literal}}", quoteLiteral(o.LoopbackLogins()[0]),
		"{{login_b_literal}}", quoteLiteral(o.LoopbackLogins()[1]),
	)
	entries, err := sqlFiles.ReadDir("sql")
	if err != nil {
		return nil, err
	}
	var fns []Function
	for _, e := range entries {
		raw, err := sqlFiles.ReadFile(path.Join("sql", e.Name()))
		if err != nil {
			return nil, err
		}
		f, err := parse(e.Name(), repl.Replace(string(raw)))
		if err != nil {
			return nil, err
		}
		f.Schema = o.Schema
		fns = append(fns, f)
	}
	// The helper first: CREATE FUNCTION does not need it, but the order a
	// reader sees should match the call graph.
	sort.SliceStable(fns, func(i, j int) bool { return !fns[i].Callable && fns[j].Callable })
	return fns, nil
}

// parse reads the "-- key: value" header of a .sql file and the body after it.
func parse(file, text string) (Function, error) {
	f := Function{Language: "plpgsql", SecurityDefiner: true}
	sc := bufio.NewScanner(strings.NewReader(text))
	var doc []string
	var body []string
	inHeader := true
	for sc.Scan() {
		line := sc.Text()
		if inHeader && strings.HasPrefix(line, "-- ") {
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "-- "), ": ")
			switch {
			case ok && k == "name":
				f.Name = v
			case ok && k == "args":
				for _, a := range strings.Split(v, ",") {
					parts := strings.Fields(a)
					if len(parts) < 2 {
						return f, fmt.Errorf("%s: bad arg %q", file, a)
					}
					arg := Arg{Name: parts[0], Type: parts[1]}
					if len(parts) == 4 && strings.EqualFold(parts[2], "DEFAULT") {
						arg.Default = parts[3]
					} else if len(parts) != 2 {
						return f, fmt.Errorf("%s: bad arg %q", file, a)
					}
					f.Args = append(f.Args, arg)
				}
			case ok && k == "returns":
				f.Returns = v
			case ok && k == "grant":
				f.Callable = v == "utility"
			default:
				doc = append(doc, strings.TrimPrefix(line, "-- "))
			}
			continue
		}
		inHeader = false
		body = append(body, line)
	}
	if f.Name == "" || f.Returns == "" {
		return f, fmt.Errorf("%s: header needs name and returns", file)
	}
	f.Doc = strings.Join(doc, " ")
	f.Body = "\n" + strings.TrimSpace(strings.Join(body, "\n")) + "\n"
	return f, nil
}

// reserved are names no tenant role or database may take (check_identifier
// refuses the same ones, plus the template, the utility schema and database
// and the functions' owner, which depend on the installation).
var reserved = map[string]bool{
	"public": true, "postgres": true, "none": true, "user": true, "current_user": true,
	"current_role": true, "session_user": true, "template0": true, "template1": true, "rdsadmin": true,
}

// ValidIdentifier applies check_identifier's rules in Go, so components can
// refuse a bad role, database or schema name before anything is registered.
func ValidIdentifier(kind, name string) error {
	switch {
	case !namePattern.MatchString(name):
		return fmt.Errorf("invalid %s name %q: use lower-case letters, digits and underscores, starting with a letter or an underscore", kind, name)
	case len(name) > 63:
		return fmt.Errorf("%s name %q is %d bytes long: PostgreSQL names are at most 63 bytes", kind, name, len(name))
	case strings.HasPrefix(name, "pg_") || strings.HasPrefix(name, "rds"):
		return fmt.Errorf("%s name %q uses a reserved prefix (pg_ and rds belong to PostgreSQL and RDS)", kind, name)
	case reserved[name]:
		return fmt.Errorf("%s name %q is reserved: choose another", kind, name)
	}
	return nil
}
