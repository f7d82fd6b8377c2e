package policypack

import (
	"strings"

	"github.com/postgis-platform/deployer/sqlfuncs"
)

func checkRoleAttributes(_ Config, r Resource) []finding {
	var out []finding
	for _, a := range []struct{ key, attr string }{
		{"superuser", "SUPERUSER"}, {"createDatabase", "CREATEDB"}, {"createRole", "CREATEROLE"},
		{"replication", "REPLICATION"}, {"bypassRowLevelSecurity", "BYPASSRLS"},
	} {
		v := get(r.Properties, a.key)
		switch {
		case v.unknown:
			out = append(out, unknownf("%s unknown until apply", a.key))
		case v.isTrue():
			out = append(out, found("role %q has %s; workflow and utility roles never do (exempt an admin role explicitly)", get(r.Properties, "name").str(), a.attr))
		}
	}
	return out
}

func checkDefinerSearchPath(_ Config, r Resource) []finding {
	if !get(r.Properties, "securityDefiner").isTrue() {
		return nil
	}
	body := get(r.Properties, "body")
	if body.unknown {
		return []finding{unknownf("body unknown until apply")}
	}
	if err := sqlfuncs.CheckPinned(body.str()); err != nil {
		return []finding{found("SECURITY DEFINER function %q: %v", get(r.Properties, "name").str(), err)}
	}
	return nil
}

func checkMappingSecret(_ Config, r Resource) []finding {
	v := get(r.Properties, "options")
	if !v.present || v.unknown {
		return nil
	}
	if v.secret {
		return nil
	}
	if v.v.IsObject() {
		for k, e := range v.v.ObjectValue() {
			if _, st := unwrap(e, value{}); !st.secret {
				return []finding{found("user mapping option %q is not a secret: wrap the options in pulumi.ToSecret", string(k))}
			}
		}
	}
	return nil
}

func checkPublicGrant(_ Config, r Resource) []finding {
	role := get(r.Properties, "role")
	if role.unknown || !strings.EqualFold(role.str(), "public") {
		return nil
	}
	privs := get(r.Properties, "privileges")
	if privs.anyUnknown() {
		return []finding{unknownf("privileges granted to PUBLIC unknown until apply")}
	}
	if p := privs.strings(); len(p) > 0 {
		what := ""
		if get(r.Properties, "objectType").str() == "function" {
			what = " (a SECURITY DEFINER function runs as its owner: anyone could call it)"
		}
		return []finding{found("grants %s on %s %s to PUBLIC%s", strings.Join(p, ", "), get(r.Properties, "objectType").str(),
			strings.Trim(get(r.Properties, "database").str()+"."+get(r.Properties, "schema").str(), "."), what)}
	}
	return nil // a Grant to PUBLIC with no privileges is the provider's revoke
}

func checkRoleMembership(_ Config, r Resource) []finding {
	roles := get(r.Properties, "roles")
	if roles.anyUnknown() {
		return []finding{unknownf("memberships unknown until apply")}
	}
	if member := roles.strings(); len(member) > 0 {
		return []finding{found("role %q is a member of %s: it holds their rights without a grant (REVOKE them, or deployer up --refresh to put the declared memberships back)",
			get(r.Properties, "name").str(), strings.Join(member, ", "))}
	}
	return nil
}

// checkRoleSearchPath finds a search_path set on a managed role (ALTER ROLE …
// SET search_path), which the provider reads back as searchPaths.
func checkRoleSearchPath(_ Config, r Resource) []finding {
	paths := get(r.Properties, "searchPaths")
	if paths.anyUnknown() {
		return []finding{unknownf("search_path unknown until apply")}
	}
	if p := paths.strings(); len(p) > 0 {
		return []finding{found("role %q has search_path set to %s: its unqualified names resolve where that path says (ALTER ROLE … RESET search_path, or deployer up --refresh)",
			get(r.Properties, "name").str(), strings.Join(p, ", "))}
	}
	return nil
}

// checkOpenDatabase reads publicPrivileges, which the drift audit sets on
// each database it found open (the provider's database resource has no ACL).
func checkOpenDatabase(_ Config, r Resource) []finding {
	privs := get(r.Properties, "publicPrivileges")
	if p := privs.strings(); len(p) > 0 {
		return []finding{found("PUBLIC has %s on database %q (owner %s): revoke it (a tenant database: utility.secure_database)",
			strings.Join(p, ", "), get(r.Properties, "name").str(), get(r.Properties, "owner").str())}
	}
	return nil
}

// auditProblem is the check of a property the drift audit sets on the
// resources it makes for what no provider resource reads: a finding with
// format, given the resource's name and the property's value, when it is set.
func auditProblem(prop, format string) func(Config, Resource) []finding {
	return func(_ Config, r Resource) []finding {
		if p := get(r.Properties, prop).str(); p != "" {
			return []finding{found(format, get(r.Properties, "name").str(), p)}
		}
		return nil
	}
}

var (
	// checkHandSetting: a setting made by hand for the platform's roles and
	// databases.
	checkHandSetting = auditProblem("handSetting", "%.0ssetting made by hand (%s): reset it (ALTER DATABASE … RESET, ALTER ROLE … [IN DATABASE …] RESET); no update does")
	// checkAdminProblem: what a hand change gave the admin role.
	checkAdminProblem = auditProblem("adminProblem", "the admin %s: %s (undo it: REVOKE, ALTER ROLE … NO…, ALTER ROLE … RESET; no update does)")
	// checkLoginProblem: a managed role that cannot log in with the stack's
	// password.
	checkLoginProblem = auditProblem("loginProblem", "%.0s%s: set the stack's password again (ALTER ROLE … PASSWORD with its verifier), or rotate it in the stack")
	// checkUtilityAudit: what the audit found in the utility schema that no
	// update repairs (a function made by hand, EXECUTE granted to another
	// role, a function's own setting).
	checkUtilityAudit = auditProblem("auditProblem", "%s: %s")
)
