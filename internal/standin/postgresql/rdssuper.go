package postgresql

import (
	"context"
	"fmt"
	"os"

	"github.com/postgis-platform/deployer/dbconn"
)

// Environment of the rds_superuser emulation.
const (
	// SuperuserEnv and SuperuserPasswordFileEnv name a superuser login on the
	// local server. On RDS the master user may create dblink and PostGIS
	// through rds_superuser; a plain PostgreSQL has no such role, so the
	// stand-in creates exactly those extensions with this login and grants
	// the admin what it would hold as their owner. Nothing else uses it.
	SuperuserEnv             = "DEPLOYER_STANDIN_PG_SUPERUSER"
	SuperuserPasswordFileEnv = "DEPLOYER_STANDIN_PG_SUPERUSER_PASSWORD_FILE"
)

// rdsSuperuserExtensions are the extensions rds_superuser may create that a
// CREATEDB/CREATEROLE admin cannot on plain PostgreSQL.
var rdsSuperuserExtensions = map[string]bool{"dblink": true, "postgis": true, "postgres_fdw": true}

func (b *backend) asRDSSuperuser(ctx context.Context, db, ext, stmt string) error {
	user, pwFile := os.Getenv(SuperuserEnv), os.Getenv(SuperuserPasswordFileEnv)
	if user == "" || pwFile == "" || !rdsSuperuserExtensions[ext] {
		return fmt.Errorf("SQLSTATE 42501: permission denied to create extension %q (on RDS the master user can through rds_superuser; locally set %s and %s)", ext, SuperuserEnv, SuperuserPasswordFileEnv)
	}
	cfg := b.cfg
	cfg.Database, cfg.User, cfg.Password = db, user, dbconn.FromFile(pwFile)
	conn, err := dbconn.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	stmts := []string{stmt}
	if ext == "postgis" {
		// PostGIS refuses to install while pgaudit logs DDL ("PostGIS
		// installation stopped: pgaudit.log is set"); rds_superuser may turn
		// it off for its own session, as this login does here.
		stmts = []string{"SELECT pg_catalog.set_config('pgaudit.log', 'none', false)", stmt, "RESET pgaudit.log"}
	}
	if ext == "dblink" {
		// As on RDS, where the master user creates it: the admin owns the
		// extension's functions (so it can revoke them from PUBLIC) and may use
		// its wrapper (a wrapper's owner must be a superuser here).
		stmts = append(stmts,
			`DO $$DECLARE f pg_catalog.regprocedure; BEGIN
			  FOR f IN SELECT p.oid::pg_catalog.regprocedure FROM pg_catalog.pg_proc p
			    JOIN pg_catalog.pg_depend d ON d.objid = p.oid AND d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.deptype = 'e'
			    JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid WHERE x.extname = 'dblink'
			  LOOP EXECUTE pg_catalog.format('ALTER FUNCTION %s OWNER TO %I', f, `+ql(b.cfg.User)+`); END LOOP; END$$`,
			"GRANT USAGE ON FOREIGN DATA WRAPPER dblink_fdw TO "+qi(b.cfg.User))
	}
	if ext == "postgis" {
		// On RDS the master user creates PostGIS and owns its tables and
		// views (spatial_ref_sys, geometry_columns, geography_columns), so
		// its GRANT ... ON ALL TABLES IN SCHEMA public reaches them.
		stmts = append(stmts,
			`DO $$DECLARE r record; BEGIN
			  FOR r IN SELECT c.oid::pg_catalog.regclass AS rel, c.relkind FROM pg_catalog.pg_class c
			    JOIN pg_catalog.pg_depend d ON d.objid = c.oid AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e'
			    JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid WHERE x.extname = 'postgis' AND c.relkind IN ('r', 'v')
			  LOOP EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I', CASE WHEN r.relkind = 'v' THEN 'VIEW' ELSE 'TABLE' END, r.rel, `+ql(b.cfg.User)+`); END LOOP; END$$`)
	}
	for _, st := range stmts {
		if _, err := conn.Exec(ctx, st); err != nil {
			return sqlErr(err)
		}
	}
	return nil
}
