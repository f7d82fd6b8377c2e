package dbcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/postgis-platform/deployer/dbconn"
)

// templateObjects lists, in the tenant template, everything every new tenant
// database would inherit beyond PostGIS and the locked public schema:
// objects that belong to no extension (functions, relations, types,
// operators, casts, schemas, triggers, rules, policies), SECURITY DEFINER
// routines even inside an extension (but PostGIS's st_estimatedextent),
// rules on relations of no extension, other extensions, event triggers,
// default privileges, publications, foreign servers and user mappings, and
// grants beyond the owner on the public schema or beyond SELECT for PUBLIC on
// PostGIS's relations. The queries skip pg_catalog and information_schema.
const templateObjects = `
WITH ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'),
     ns AS (SELECT oid, nspname FROM pg_catalog.pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname !~ '^pg_(toast_)?temp_')
SELECT kind || ' ' || name FROM (
  SELECT 'function' AS kind, p.oid::pg_catalog.regprocedure::text AS name FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND objid = p.oid)
  UNION ALL
  SELECT 'security definer function', p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace
   WHERE p.prosecdef AND NOT (p.proname = 'st_estimatedextent' -- PostGIS's own (3.3, in C): it reads statistics
     AND p.prolang = (SELECT oid FROM pg_catalog.pg_language WHERE lanname = 'c')
     AND EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND objid = p.oid))
  UNION ALL
  SELECT 'relation', c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p', 'S')
     AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'type', t.oid::pg_catalog.regtype::text FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace
   WHERE t.typrelid = 0 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                                        AND d.objid = t.oid AND d.deptype IN ('e', 'i'))
  UNION ALL
  SELECT 'operator', o.oid::pg_catalog.regoperator::text FROM pg_catalog.pg_operator o JOIN ns ON ns.oid = o.oprnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND objid = o.oid)
  UNION ALL
  SELECT 'cast', pg_catalog.format_type(c.castsource, NULL) || ' AS ' || pg_catalog.format_type(c.casttarget, NULL) FROM pg_catalog.pg_cast c
   WHERE c.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_cast'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'schema', nspname FROM ns WHERE nspname <> 'public'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND objid = ns.oid)
  UNION ALL
  SELECT 'extension', extname FROM pg_catalog.pg_extension WHERE extname NOT IN ('plpgsql', 'postgis')
  UNION ALL
  SELECT 'event trigger', evtname FROM pg_catalog.pg_event_trigger
  UNION ALL
  SELECT 'trigger', tgname || ' on ' || tgrelid::pg_catalog.regclass::text FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal
   AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND objid = t.oid)
  UNION ALL
  SELECT 'rule', rulename || ' on ' || ev_class::pg_catalog.regclass::text FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
   JOIN ns ON ns.oid = c.relnamespace WHERE r.rulename <> '_RETURN'
     AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'row security policy', polname || ' on ' || polrelid::pg_catalog.regclass::text FROM pg_catalog.pg_policy
  UNION ALL
  SELECT 'default privileges', pg_catalog.pg_get_userbyid(defaclrole)::text FROM pg_catalog.pg_default_acl
  UNION ALL
  SELECT 'publication', pubname FROM pg_catalog.pg_publication
  UNION ALL
  SELECT 'foreign server', srvname FROM pg_catalog.pg_foreign_server
  UNION ALL
  SELECT 'user mapping', usename::text || ' on ' || srvname::text FROM pg_catalog.pg_user_mappings
  UNION ALL
  SELECT 'grant on schema ' || ns.nspname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END || ' ' || a.privilege_type
   FROM ns JOIN pg_catalog.pg_namespace n ON n.oid = ns.oid, pg_catalog.aclexplode(COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) a
   WHERE a.grantee <> n.nspowner
  UNION ALL
  SELECT 'large object', l.oid::text FROM pg_catalog.pg_largeobject_metadata l
  UNION ALL
  SELECT 'collation', c.collname::text FROM pg_catalog.pg_collation c JOIN ns ON ns.oid = c.collnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_collation'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'text search configuration', c.cfgname::text FROM pg_catalog.pg_ts_config c JOIN ns ON ns.oid = c.cfgnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_ts_config'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'text search dictionary', c.dictname::text FROM pg_catalog.pg_ts_dict c JOIN ns ON ns.oid = c.dictnamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_ts_dict'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'conversion', c.conname::text FROM pg_catalog.pg_conversion c JOIN ns ON ns.oid = c.connamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_conversion'::pg_catalog.regclass AND objid = c.oid)
  UNION ALL
  SELECT 'statistics object', s.stxname::text FROM pg_catalog.pg_statistic_ext s
  UNION ALL
  SELECT 'row security on', c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relrowsecurity
  UNION ALL
  SELECT 'relation added to an extension', c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
     AND EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND objid = c.oid)
     AND c.relname NOT IN ('spatial_ref_sys', 'geometry_columns', 'geography_columns') -- PostGIS's own
  UNION ALL
  SELECT 'grant to PUBLIC', c.oid::pg_catalog.regclass::text || ' ' || a.privilege_type
   FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) a
   WHERE a.grantee = 0 AND a.privilege_type <> 'SELECT'
) x ORDER BY 1`

// checkTemplate reads the tenant template (a short connection: CREATE
// DATABASE … TEMPLATE waits up to five seconds for other sessions to leave).
func checkTemplate(ctx context.Context, cfg dbconn.Config, template string) Result {
	r := Result{Name: "tenant template " + template + ": nothing but PostGIS and a locked public schema"}
	return inDatabase(ctx, cfg, template, r, func(conn *pgx.Conn) Result {
		found, err := listRows(ctx, conn, templateObjects)
		return listed(r, found, err, fmt.Sprintf("remove each from %s (every tenant database cloned from it inherits them; check the tenants made since)", template))
	})
}

// listed fills r from what a catalog query found: OK when nothing, else the
// findings and fix; a failed query is a finding too.
func listed(r Result, found []string, err error, fix string) Result {
	if err != nil {
		r.Found, r.Fix = "could not read the catalog: "+err.Error(), "check the admin's rights"
		return r
	}
	if r.OK = len(found) == 0; !r.OK {
		r.Found, r.Fix = strings.Join(found, "; "), fix
	}
	return r
}

// checkUtilityObjects reads the utility database as checkTemplate reads the
// template: it holds the utility functions (sqlfuncs.Check judges them), the
// dblink extension, the loopback server and the owner's mapping, USAGE on
// the utility schema for the utility role, and nothing else: a SECURITY
// DEFINER function in another schema, a table or a cast made there, or USAGE
// on dblink's schema for the caller would each widen what it can do.
func checkUtilityObjects(ctx context.Context, conn *pgx.Conn, u Utility) (Result, error) {
	o := u.Options.WithDefaults()
	r := Result{Name: "utility database " + u.Database + ": nothing but the utility functions, dblink and the loopback server"}
	all, err := listRows(ctx, conn, templateObjects)
	if err != nil {
		return r, fmt.Errorf("check the utility database's objects: %w", err)
	}
	expected := map[string]bool{
		"schema " + o.Schema: true, "schema " + o.DblinkSchema: true, "foreign server " + o.Server: true,
		"user mapping " + u.Owner + " on " + o.Server: true, "grant on schema " + o.Schema + " " + o.UtilityRole + " USAGE": true,
		"extension dblink": true, "grant on schema " + o.DblinkSchema + " " + u.Owner + " USAGE": true,
		"grant on schema " + o.Schema + " " + u.Owner + " USAGE": true,
	}
	var found []string
	for _, f := range all {
		inUtility := strings.HasPrefix(f, "function "+o.Schema+".") || strings.HasPrefix(f, "security definer function "+o.Schema+".") ||
			strings.HasPrefix(f, "security definer function "+o.DblinkSchema+".dblink_connect_u(") // dblink's own, EXECUTE revoked
		if !expected[f] && !inUtility {
			found = append(found, f)
		}
	}
	if r.OK = len(found) == 0; !r.OK {
		r.Found = strings.Join(found, "; ")
		r.Fix = "remove each from " + u.Database + " (DROP …, REVOKE …)"
	}
	return r, nil
}
