-- name: is_tenant_role
-- args: role_name text
-- returns: boolean
-- grant: none
-- True when role_name is a tenant role: a plain login role (no superuser,
-- createdb, createrole, replication or bypassrls) that is a direct member of
-- the tenant group and of no other role. create_role makes exactly such
-- roles; every platform role (the admin, the utility role, the ETL and tile
-- roles) fails the test, whatever its name. Called by the other functions.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
    result pg_catalog.bool;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT EXISTS (
        SELECT 1 FROM pg_catalog.pg_roles r
        WHERE r.rolname = role_name AND r.rolcanlogin
          AND NOT (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls)
          AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                      WHERE m.member = r.oid AND g.rolname = {{tenant_group_literal}} AND NOT g.rolcanlogin)
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                          WHERE m.member = r.oid AND g.rolname <> {{tenant_group_literal}}))
    INTO result;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN result;
END;
