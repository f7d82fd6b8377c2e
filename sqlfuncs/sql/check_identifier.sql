-- name: check_identifier
-- args: kind text, ident text
-- returns: void
-- grant: none
-- Raises unless ident is a safe name for a tenant role or database: lower-case
-- letters, digits and underscores, at most 63 bytes, no pg_/rds prefix, not a
-- reserved or platform name. Called by the other functions, never by users.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF ident IS NULL OR ident !~ '^[a-z_][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid % name %', kind, pg_catalog.quote_nullable(ident)
            USING ERRCODE = 'invalid_name',
                  HINT = 'use lower-case letters, digits and underscores, starting with a letter or an underscore';
    END IF;
    IF pg_catalog.octet_length(ident) > 63 THEN
        RAISE EXCEPTION '% name is % bytes long', kind, pg_catalog.octet_length(ident)
            USING ERRCODE = 'name_too_long', HINT = 'PostgreSQL names are at most 63 bytes';
    END IF;
    IF ident LIKE 'pg\_%' OR ident LIKE 'rds%' THEN
        RAISE EXCEPTION '% name % uses a reserved prefix', kind, ident
            USING ERRCODE = 'reserved_name', HINT = 'names starting with pg_ or rds belong to PostgreSQL and RDS';
    END IF;
    IF ident = ANY (ARRAY['public', 'postgres', 'none', 'user', 'current_user', 'current_role',
                          'session_user', 'template0', 'template1', 'rdsadmin', {{template_literal}}, {{schema_literal}},
                          {{tenant_group_literal}}, {{utility_role_literal}}, {{owner_literal}}, {{login_a_literal}},
                          {{login_b_literal}}])
       OR ident = pg_catalog.current_database()
       OR ident = current_user::text THEN
        RAISE EXCEPTION '% name % is reserved', kind, ident
            USING ERRCODE = 'reserved_name', HINT = 'choose a tenant-specific name';
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN;
END;
