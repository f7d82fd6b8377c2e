package postgresql

import (
	"regexp"
	"strings"
)

// schemaDefaults are the Default values of the provider's schema, which the
// bridge fills into the inputs at Check, so a hand change to one of them is
// drift even when the program never set it.
// Upstream: cyrilgdn/terraform-provider-postgresql v1.26.0, the Default: of
// each resource schema (resource_postgresql_{role,database,schema,extension,
// grant,default_privileges,server,function}.go); pulumi-terraform-bridge
// applies them in Check (MakeTerraformInputs).
var schemaDefaults = map[string]map[string]any{
	TypeRole: {"encryptedPassword": true, "validUntil": "infinity", "connectionLimit": float64(-1), "superuser": false,
		"createDatabase": false, "createRole": false, "inherit": true, "login": false, "replication": false,
		"bypassRowLevelSecurity": false, "skipDropRole": false, "skipReassignOwned": false},
	TypeDatabase:          {"connectionLimit": float64(-1), "allowConnections": true, "alterObjectOwnership": false},
	TypeSchema:            {"ifNotExists": true, "dropCascade": false},
	TypeExtension:         {"dropCascade": false, "createCascade": false},
	TypeGrant:             {"withGrantOption": false},
	TypeDefaultPrivileges: {"withGrantOption": false},
	TypeServer:            {"dropCascade": false},
	TypeFunction: {"language": "plpgsql", "dropCascade": false, "parallel": "UNSAFE", "securityDefiner": false,
		"strict": false, "volatility": "VOLATILE"},
}

// functionDef is pg_get_functiondef's output, parsed as the provider does.
// Upstream: postgresql/model_pg_function.go PGFunction.Parse and
// PGFunctionArg.Parse at v1.26.0, regular expressions and quirks included
// (arguments split on every comma; mode IN when absent).
var (
	functionDefRE = regexp.MustCompile(`(?si)CREATE\sOR\sREPLACE\sFUNCTION\s(?P<Schema>[^.]+)\.(?P<Name>[^(]+)\((?P<Args>.*)\).*RETURNS\s(?P<Returns>[^\n]+).*LANGUAGE\s(?P<Language>[^\n\s]+)\s*(?P<Volatility>(STABLE|IMMUTABLE)?)\s*(?P<Parallel>(PARALLEL (SAFE|RESTRICTED))?)\s*(?P<Strict>(STRICT)?)\s*(?P<Security>(SECURITY DEFINER)?).*\$[a-zA-Z]*\$(?P<Body>.*)\$[a-zA-Z]*\$`)
	argDefaultRE  = regexp.MustCompile(`(?si)(?P<ArgData>.*)\sDEFAULT\s(?P<ArgDefault>.*)`)
	argRE         = regexp.MustCompile(`(?si)((?P<Mode>IN|OUT|INOUT|VARIADIC)\s)?(?P<Name>[^\s]+)\s(?P<Type>.*)`)
)

func submatches(re *regexp.Regexp, s string) map[string]string {
	m := re.FindStringSubmatch(s)
	out := map[string]string{}
	if m == nil {
		return out
	}
	for i, name := range re.SubexpNames() {
		if name != "" {
			out[name] = m[i]
		}
	}
	return out
}

// parseFunctionDef returns the function's properties as Read sets them.
func parseFunctionDef(def string) map[string]any {
	d := submatches(functionDefRE, def)
	args := []any{}
	if d["Args"] != "" {
		for _, raw := range strings.Split(d["Args"], ",") {
			data, dflt := raw, ""
			if m := submatches(argDefaultRE, raw); len(m) > 0 {
				data, dflt = m["ArgData"], m["ArgDefault"]
			}
			a := submatches(argRE, data)
			mode := a["Mode"]
			if mode == "" {
				mode = "IN"
			}
			args = append(args, map[string]any{"name": a["Name"], "type": a["Type"], "mode": mode, "default": dflt})
		}
	}
	volatility, parallel := d["Volatility"], strings.TrimPrefix(d["Parallel"], "PARALLEL ")
	if volatility == "" {
		volatility = "VOLATILE"
	}
	if parallel == "" {
		parallel = "UNSAFE"
	}
	return map[string]any{"schema": d["Schema"], "name": d["Name"], "returns": d["Returns"], "language": d["Language"],
		"body": d["Body"], "args": args, "securityDefiner": d["Security"] != "", "strict": d["Strict"] != "",
		"volatility": volatility, "parallel": parallel}
}

// functionArgsReplace says whether an args change replaces the function:
// the arg list is ForceNew as a list of blocks (adding or removing an
// argument replaces) and each argument's type, name and mode are ForceNew;
// a default changes in place (CREATE OR REPLACE).
// Upstream: resource_postgresql_function.go schema (arg: ForceNew, its type,
// name, mode: ForceNew; default: not), and the bridge's rule for ForceNew
// lists of blocks (pulumi-terraform-bridge TestBlockCollectionForceNew).
func functionArgsReplace(olds, news map[string]any) []string {
	o, _ := olds["args"].([]any)
	n, _ := news["args"].([]any)
	if len(o) != len(n) {
		return []string{"args"}
	}
	for i := range o {
		oa, _ := o[i].(map[string]any)
		na, _ := n[i].(map[string]any)
		for _, k := range []string{"type", "name", "mode"} {
			ov, nv := str(oa, k), str(na, k)
			if k == "mode" {
				ov, nv = orDefault(ov, "IN"), orDefault(nv, "IN")
			}
			if !strings.EqualFold(ov, nv) {
				return []string{"args"}
			}
		}
	}
	return nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
