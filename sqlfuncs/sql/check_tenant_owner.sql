-- name: check_tenant_owner
-- args: owner_name text
-- returns: void
-- grant: none
-- Raises unless owner_name is a tenant role (is_tenant_role): only roles
-- made by create_role may own a tenant database, so no platform role can be
-- handed a database, and nothing is granted before this check passes.
-- Called by create_database and secure_database, never by users.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = owner_name) THEN
        RAISE EXCEPTION 'owner role % does not exist', owner_name
            USING ERRCODE = 'undefined_object', HINT = 'create it first with create_role';
    END IF;
    IF NOT {{schema}}.is_tenant_role(owner_name) THEN
        RAISE EXCEPTION 'role % is not a tenant role and cannot own a tenant database', owner_name
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'tenant databases belong to roles made by create_role';
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN;
END;
