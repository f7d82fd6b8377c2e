-- name: create_database
-- args: db_name text, owner_name text
-- returns: boolean
-- grant: utility
-- Creates db_name owned by the tenant role owner_name from the locked tenant
-- template (PostGIS installed, public schema locked) unless it exists, and
-- locks it down. CREATE DATABASE cannot run inside a function's transaction,
-- so it runs in a dblink session on the loopback server (the user mapping of
-- this function's owner), committed at once, with connections refused. With
-- the dedicated owner the session's login, a member of no tenant, makes the
-- database as its own and revokes it from PUBLIC, and this transaction hands
-- it to the tenant and opens it; otherwise the session does every step,
-- each committed as it runs. A rollback, timeout or kill at any point leaves
-- no database or one nobody can enter; a re-run finishes the job. Only roles
-- made by create_role can own a tenant database. Returns true when it
-- changed anything.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
    created pg_catalog.bool := false;
    current_owner pg_catalog.text;
    acl pg_catalog.aclitem[];
    allowed pg_catalog.bool;
    -- The dedicated owner's logins are members of no tenant (a leaked login
    -- password must not reach one): the session makes the database as the
    -- login's own, and this transaction gives it to the tenant.
    dedicated pg_catalog.bool;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    dedicated := current_user = {{owner_literal}};
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '%() must run in a READ COMMITTED transaction, not %', 'create_database', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'a snapshot older than the call could show a database or role that was dropped and made again under the same name since';
    END IF;
    PERFORM {{schema}}.check_identifier('database', db_name);
    PERFORM {{schema}}.check_identifier('role', owner_name);
    PERFORM {{schema}}.check_tenant_owner(owner_name);
    PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('database:' || db_name));
    SELECT pg_catalog.pg_get_userbyid(d.datdba)::text, d.datacl, d.datallowconn INTO current_owner, acl, allowed
        FROM pg_catalog.pg_database d WHERE d.datname = db_name;
    -- A database a login owns was made by a call whose transaction did not
    -- commit the hand-over (or by a leaked login, to wait for a tenant):
    -- this call drops it and makes it anew, never hands it over as it is.
    IF current_owner IS DISTINCT FROM owner_name AND current_owner IS NOT NULL
       AND NOT (dedicated AND current_owner IN ({{login_a_literal}}, {{login_b_literal}})) THEN
        RAISE EXCEPTION 'database % exists and belongs to %, not %', db_name, current_owner, owner_name
            USING ERRCODE = 'duplicate_database', HINT = 'choose another name or the existing owner';
    END IF;
    IF current_owner = owner_name AND allowed AND acl IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(acl) a WHERE a.grantee = 0) THEN
        PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
        RETURN false; -- made and locked down before
    END IF;
    IF dedicated AND NOT pg_catalog.pg_has_role(current_user, owner_name, 'MEMBER') THEN
        RAISE EXCEPTION 'tenant role % is not granted to the functions'' owner %', owner_name, current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'it was made outside create_role: deployer up grants every member of the tenant group to the owner';
    END IF;
    IF NOT dedicated OR current_owner IS DISTINCT FROM owner_name THEN
        -- The loopback session a previous call in this session left open
        -- is reused when it still answers as the functions' login (a new
        -- backend with TLS and SCRAM costs more than the rest of the call);
        -- it closes itself after 10 s idle. (No dollar quotes in a body:
        -- the provider's reading of the definition would cut it there.)
        BEGIN
            PERFORM {{dblink}}.dblink_exec('RESET ROLE; DO ' || pg_catalog.quote_literal(pg_catalog.format(
                'BEGIN IF session_user::text NOT IN (%L, %L, %L) THEN RAISE EXCEPTION %L; END IF; END',
                current_user, {{login_a_literal}}, {{login_b_literal}}, 'not the loopback session')));
        EXCEPTION WHEN others THEN
            PERFORM {{dblink}}.dblink_connect({{server_literal}});
            PERFORM {{dblink}}.dblink_exec('SET idle_session_timeout = ''10s''');
        END;
        BEGIN
            IF NOT dedicated AND NOT pg_catalog.pg_has_role(current_user, owner_name, 'MEMBER') THEN
                -- CREATE DATABASE ... OWNER needs membership in the owner role.
                PERFORM {{dblink}}.dblink_exec(pg_catalog.format('GRANT %I TO %I', owner_name, current_user));
            END IF;
            IF dedicated AND current_owner IS NOT NULL THEN
                BEGIN
                    PERFORM {{dblink}}.dblink_exec(pg_catalog.format('ALTER DATABASE %I IS_TEMPLATE false ALLOW_CONNECTIONS false', db_name));
                    PERFORM {{dblink}}.dblink_exec(pg_catalog.format('DROP DATABASE %I WITH (FORCE)', db_name));
                EXCEPTION WHEN others THEN
                    RAISE EXCEPTION 'database % belongs to %, a login of the functions'' owner, and was never handed to a tenant; it could not be dropped: %', db_name, current_owner, SQLERRM
                        USING ERRCODE = 'duplicate_database',
                              HINT = 'drop it as the admin (DROP DATABASE … WITH (FORCE)) and call create_database again';
                END;
                current_owner := NULL;
            END IF;
            IF current_owner IS NULL THEN
                BEGIN
                    IF dedicated THEN
                        PERFORM {{dblink}}.dblink_exec(pg_catalog.format(
                            'CREATE DATABASE %I TEMPLATE %I ALLOW_CONNECTIONS false', db_name, {{template_literal}}));
                        PERFORM {{dblink}}.dblink_exec(pg_catalog.format('REVOKE ALL ON DATABASE %I FROM PUBLIC', db_name));
                    ELSE
                        PERFORM {{dblink}}.dblink_exec(pg_catalog.format(
                            'CREATE DATABASE %I OWNER %I TEMPLATE %I ALLOW_CONNECTIONS false', db_name, owner_name, {{template_literal}}));
                    END IF;
                    created := true;
                EXCEPTION WHEN duplicate_database OR unique_violation THEN
                    -- Created meanwhile by a session that does not take our lock.
                    SELECT pg_catalog.pg_get_userbyid(d.datdba)::text INTO current_owner
                        FROM pg_catalog.pg_database d WHERE d.datname = db_name;
                    IF current_owner IS DISTINCT FROM owner_name THEN
                        RAISE EXCEPTION 'database % was created concurrently and belongs to %, not %', db_name, current_owner, owner_name
                            USING ERRCODE = 'duplicate_database', HINT = 'choose another name or the existing owner';
                    END IF;
                END;
            END IF;
            IF NOT dedicated THEN
                -- As the tenant, who owns it, in one implicit transaction: the
                -- database opens only once locked.
                PERFORM {{dblink}}.dblink_exec(pg_catalog.format(
                    'SET ROLE %I; REVOKE ALL ON DATABASE %I FROM PUBLIC; GRANT ALL ON DATABASE %I TO %I; ALTER DATABASE %I ALLOW_CONNECTIONS true; RESET ROLE',
                    owner_name, db_name, db_name, owner_name, db_name));
            END IF;
            -- Kept for the next call only while the logins hold few
            -- sessions: idle ones must not take the slots of calls to come
            -- (each login has 40: 32 for calls at once, 8 for kept sessions).
            IF (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity a
                WHERE a.usename::text IN ({{login_a_literal}}, {{login_b_literal}})) > 8 THEN
                PERFORM {{dblink}}.dblink_disconnect();
            END IF;
        EXCEPTION
            WHEN undefined_object THEN
                BEGIN
                    PERFORM {{dblink}}.dblink_disconnect();
                EXCEPTION WHEN others THEN
                    NULL;
                END;
                RAISE EXCEPTION 'role % is not visible to the session that creates the database', owner_name
                    USING ERRCODE = 'undefined_object',
                          HINT = 'commit the transaction that called create_role before calling create_database';
            WHEN query_canceled OR others THEN
                -- Close the owner's session before the error leaves the function.
                BEGIN
                    PERFORM {{dblink}}.dblink_disconnect();
                EXCEPTION WHEN others THEN
                    NULL;
                END;
                RAISE;
        END;
    END IF;
    IF dedicated THEN
        -- One hand-over to a tenant at a time (secure_database takes the same
        -- lock for its grants).
        PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('owner:' || owner_name));
        -- As the owner: a member of both logins and of the tenant, with
        -- CREATEDB (ALTER DATABASE … OWNER needs all three). The first
        -- statement holds the database's catalog row to the end of this
        -- transaction, so nobody changes it meanwhile; a database this call
        -- made must then still be as the login left it: closed, no template,
        -- granted to nobody, no settings, nobody in it. Otherwise someone
        -- with the login's password opened it in between: it is not handed
        -- over, and the next call drops it and makes it anew.
        EXECUTE pg_catalog.format('ALTER DATABASE %I OWNER TO %I', db_name, owner_name);
        PERFORM pg_catalog.pg_stat_clear_snapshot();
        IF created AND (
            EXISTS (SELECT 1 FROM pg_catalog.pg_database d WHERE d.datname = db_name AND (d.datallowconn OR d.datistemplate
                    OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(d.datacl) a WHERE a.grantee <> d.datdba)))
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase WHERE d.datname = db_name)
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.datname = db_name AND a.backend_type = 'client backend')) THEN
            RAISE EXCEPTION 'database % was opened or changed while it was being made: not handed to %', db_name, owner_name
                USING ERRCODE = 'object_in_use',
                      HINT = 'someone holds the password of the functions'' login: run deployer rotate, then call create_database again (it drops the database and makes it anew)';
        END IF;
        EXECUTE pg_catalog.format('REVOKE ALL ON DATABASE %I FROM PUBLIC', db_name);
        EXECUTE pg_catalog.format('GRANT ALL ON DATABASE %I TO %I', db_name, owner_name);
        EXECUTE pg_catalog.format('ALTER DATABASE %I ALLOW_CONNECTIONS true', db_name);
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN true;
END;
