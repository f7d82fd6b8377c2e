-- name: create_role
-- args: role_name text, password_verifier text DEFAULT NULL
-- returns: boolean
-- grant: utility
-- Creates a plain login role (no superuser, createdb, createrole, replication
-- or bypassrls) unless it exists. Takes a SCRAM-SHA-256 verifier or no
-- password (IAM or certificate login), never a cleartext password. A role it
-- creates is granted to the functions' owner in the same transaction, so
-- create_database can make it a database owner (CREATE DATABASE ... OWNER
-- needs that membership) without a second dblink session. Returns true when
-- it created the role.
DECLARE
    caller_search_path text := pg_catalog.current_setting('search_path');
    password_clause text := '';
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM {{schema}}.check_identifier('role', role_name);
    IF password_verifier IS NOT NULL THEN
        IF password_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
            RAISE EXCEPTION 'password_verifier is not a SCRAM-SHA-256 verifier'
                USING ERRCODE = 'invalid_password',
                      HINT = 'pass SCRAM-SHA-256$<iterations>:<salt>$<storedkey>:<serverkey>, never a cleartext password';
        END IF;
        password_clause := pg_catalog.format(' PASSWORD %L', password_verifier);
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('role:' || role_name));
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role_name) THEN
        PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
        RETURN false;
    END IF;
    BEGIN
        EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', role_name)
            || password_clause;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        -- Another session created it first.
        PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
        RETURN false;
    END;
    EXECUTE pg_catalog.format('GRANT %I TO %I', role_name, current_user);
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN true;
END;
