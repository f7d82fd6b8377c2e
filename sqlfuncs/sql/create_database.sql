-- name: create_database
-- args: db_name text, owner_name text
-- returns: boolean
-- grant: utility
-- Creates db_name owned by owner_name from the locked tenant template (PostGIS
-- installed, public schema locked) unless it exists, then locks it down with
-- secure_database. CREATE DATABASE cannot run inside a function's
-- transaction, so it runs through dblink on the loopback server, whose user
-- mapping belongs to this function's owner. Safe to re-run after any failure
-- and under concurrent callers. Returns true when it changed anything.
DECLARE
    caller_search_path text := pg_catalog.current_setting('search_path');
    created boolean := false;
    secured boolean;
    current_owner text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM {{schema}}.check_identifier('database', db_name);
    PERFORM {{schema}}.check_identifier('role', owner_name);
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = owner_name) THEN
        RAISE EXCEPTION 'owner role % does not exist', owner_name
            USING ERRCODE = 'undefined_object', HINT = 'create it first with create_role';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = owner_name
               AND (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls)) THEN
        RAISE EXCEPTION 'role % cannot own a tenant database', owner_name
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'tenant owners are plain login roles made with create_role';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('database:' || db_name));
    SELECT pg_catalog.pg_get_userbyid(d.datdba)::text INTO current_owner
        FROM pg_catalog.pg_database d WHERE d.datname = db_name;
    IF current_owner IS NULL THEN
        -- CREATE DATABASE ... OWNER needs membership in the owner role; grant
        -- it through dblink too, so the other session sees it committed.
        PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('owner:' || owner_name));
        IF NOT pg_catalog.pg_has_role(current_user, owner_name, 'MEMBER') THEN
            PERFORM {{dblink}}.dblink_exec({{server_literal}},
                pg_catalog.format('GRANT %I TO %I', owner_name, current_user));
        END IF;
        BEGIN
            PERFORM {{dblink}}.dblink_exec({{server_literal}},
                pg_catalog.format('CREATE DATABASE %I OWNER %I TEMPLATE %I', db_name, owner_name, {{template_literal}}));
            created := true;
        EXCEPTION WHEN duplicate_database OR unique_violation THEN
            -- Created concurrently by a caller that does not take our lock.
            created := false;
        END;
        SELECT pg_catalog.pg_get_userbyid(d.datdba)::text INTO current_owner
            FROM pg_catalog.pg_database d WHERE d.datname = db_name;
    END IF;
    IF current_owner IS DISTINCT FROM owner_name THEN
        RAISE EXCEPTION 'database % exists and belongs to %, not %', db_name, current_owner, owner_name
            USING ERRCODE = 'duplicate_database', HINT = 'choose another name or the existing owner';
    END IF;
    secured := {{schema}}.secure_database(db_name, owner_name);
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN created OR secured;
END;
