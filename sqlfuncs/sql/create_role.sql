-- name: create_role
-- args: role_name text, password_verifier text DEFAULT NULL::text
-- returns: boolean
-- grant: utility
-- Creates a tenant role: a plain login role (no superuser, createdb,
-- createrole, replication or bypassrls) in the tenant group, with the
-- installation's CONNECTION LIMIT, unless that tenant role exists already
-- (it keeps its own limit). A name taken by any other role is an error,
-- never a silent false. Takes a SCRAM-SHA-256 verifier with at least 4096
-- iterations, or no password (IAM or certificate login), never a cleartext
-- password. The new role is granted to the functions' owner in the same
-- transaction, so create_database can make it a database owner without a
-- second dblink session. Returns true when it created the role.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
    password_clause pg_catalog.text := '';
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '%() must run in a READ COMMITTED transaction, not %', 'create_role', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'a snapshot older than the call could show a database or role that was dropped and made again under the same name since';
    END IF;
    PERFORM {{schema}}.check_identifier('role', role_name);
    IF password_verifier IS NOT NULL THEN
        PERFORM {{schema}}.check_verifier(password_verifier);
        password_clause := pg_catalog.format(' PASSWORD %L', password_verifier);
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('role:' || role_name));
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role_name) THEN
        BEGIN
            EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {{tenant_connection_limit}} IN ROLE %I',
                role_name, {{tenant_group_literal}}) || password_clause;
            EXECUTE pg_catalog.format('GRANT %I TO %I', role_name, current_user);
            IF current_user <> {{owner_literal}} AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = {{owner_literal}})
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = {{login_a_literal}}) THEN
                -- The dedicated owner (when the functions are not handed to
                -- it yet) hands the tenant its databases. Its loopback logins
                -- are members of no tenant.
                EXECUTE pg_catalog.format('GRANT %I TO %I', role_name, {{owner_literal}});
            END IF;
            PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
            RETURN true;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created by another session first: judged below
        END;
    END IF;
    IF NOT {{schema}}.is_tenant_role(role_name) THEN
        RAISE EXCEPTION 'role % exists and is not a tenant role', role_name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'create_role makes tenant roles only; choose a name no platform role uses';
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN false;
END;
