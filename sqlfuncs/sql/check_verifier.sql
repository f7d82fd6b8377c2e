-- name: check_verifier
-- args: verifier text
-- returns: void
-- grant: none
-- Raises unless verifier is a well-formed SCRAM-SHA-256 verifier with at
-- least 4096 iterations (PostgreSQL's default): a 16-byte or longer salt and
-- 32-byte keys. Anything else, a cleartext password above all, is refused
-- before it reaches CREATE ROLE. Called by create_role, never by users.
DECLARE
    caller_search_path pg_catalog.text := pg_catalog.current_setting('search_path');
    parts pg_catalog.text[];
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    parts := pg_catalog.regexp_match(verifier,
        '^SCRAM-SHA-256\$([0-9]{1,9}):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$');
    IF parts IS NOT NULL THEN
        BEGIN
            IF pg_catalog.length(pg_catalog.decode(parts[2], 'base64')) < 16
               OR pg_catalog.length(pg_catalog.decode(parts[3], 'base64')) <> 32
               OR pg_catalog.length(pg_catalog.decode(parts[4], 'base64')) <> 32 THEN
                parts := NULL;
            END IF;
        EXCEPTION WHEN invalid_parameter_value THEN
            parts := NULL; -- not valid base64
        END;
    END IF;
    IF parts IS NULL THEN
        RAISE EXCEPTION 'password_verifier is not a SCRAM-SHA-256 verifier'
            USING ERRCODE = 'invalid_password',
                  HINT = 'pass SCRAM-SHA-256$<iterations>:<salt>$<storedkey>:<serverkey>, never a cleartext password';
    END IF;
    IF parts[1]::bigint < 4096 THEN
        RAISE EXCEPTION 'password_verifier uses % SCRAM iterations', parts[1]::bigint
            USING ERRCODE = 'invalid_password', HINT = 'use at least 4096 iterations, PostgreSQL''s default';
    END IF;
    PERFORM pg_catalog.set_config('search_path', caller_search_path, true);
    RETURN;
END;
