-- name: secure_database
-- args: db_name text, owner_name text
-- returns: boolean
-- grant: utility
-- Locks the tenant database db_name down: revokes every database privilege (CONNECT, TEMPORARY,
-- CREATE) from PUBLIC and grants them to its owner, so nobody else gets in
-- without a visible, auditable GRANT. Idempotent. Returns true when the
-- database's ACL changed.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
    current_owner pg_catalog.text;
    acl_before pg_catalog.aclitem[];
    acl_after pg_catalog.aclitem[];
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '%() must run in a READ COMMITTED transaction, not %', 'secure_database', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = 'invalid_transaction_state',
                  HINT = 'a snapshot older than the call could show a database or role that was dropped and made again under the same name since';
    END IF;
    PERFORM {{schema}}.check_identifier('database', db_name);
    PERFORM {{schema}}.check_identifier('role', owner_name);
    PERFORM {{schema}}.check_tenant_owner(owner_name);
    PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('secure:' || db_name));
    SELECT pg_catalog.pg_get_userbyid(d.datdba)::text, d.datacl INTO current_owner, acl_before
        FROM pg_catalog.pg_database d WHERE d.datname = db_name;
    IF current_owner IS NULL THEN
        RAISE EXCEPTION 'database % does not exist', db_name
            USING ERRCODE = 'invalid_catalog_name', HINT = 'create it with create_database';
    END IF;
    IF current_owner <> owner_name THEN
        RAISE EXCEPTION 'database % belongs to %, not %', db_name, current_owner, owner_name
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT pg_catalog.pg_has_role(current_user, owner_name, 'MEMBER') AND current_user = {{owner_literal}} THEN
        -- The dedicated owner's logins cannot grant roles.
        RAISE EXCEPTION 'tenant role % is not granted to the functions'' owner %', owner_name, current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'it was made outside create_role: deployer up grants every member of the tenant group to the owner and its logins';
    ELSIF NOT pg_catalog.pg_has_role(current_user, owner_name, 'MEMBER') THEN
        PERFORM pg_catalog.pg_advisory_xact_lock({{lock_class}}, pg_catalog.hashtext('owner:' || owner_name));
        PERFORM {{dblink}}.dblink_exec({{server_literal}},
            pg_catalog.format('GRANT %I TO %I', owner_name, current_user));
    END IF;
    EXECUTE pg_catalog.format('REVOKE ALL ON DATABASE %I FROM PUBLIC', db_name);
    EXECUTE pg_catalog.format('GRANT ALL ON DATABASE %I TO %I', db_name, owner_name);
    SELECT d.datacl INTO acl_after FROM pg_catalog.pg_database d WHERE d.datname = db_name;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN acl_before IS DISTINCT FROM acl_after;
END;
