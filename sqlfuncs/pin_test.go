package sqlfuncs_test

import (
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/sqlfuncs"
)

func TestDefinitionsArePinned(t *testing.T) {
	fns, err := sqlfuncs.Definitions(sqlfuncs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fns {
		names[f.Name] = f.Callable
		if err := sqlfuncs.CheckPinned(f.Body); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		if !f.SecurityDefiner || f.Language != "plpgsql" {
			t.Errorf("%s: security definer %v language %s", f.Name, f.SecurityDefiner, f.Language)
		}
		if strings.Contains(f.Body, "{{") {
			t.Errorf("%s: unreplaced placeholder in body", f.Name)
		}
	}
	want := map[string]bool{"check_identifier": false, "create_role": true, "create_database": true, "secure_database": true}
	for n, callable := range want {
		if got, ok := names[n]; !ok || got != callable {
			t.Errorf("function %s: present %v callable %v, want callable %v", n, ok, got, callable)
		}
	}
}

const pinned = `
DECLARE
    saved pg_catalog.text := pg_catalog.current_setting('search_path');
    n pg_catalog.int4 := 0;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF n = 0 THEN
        PERFORM pg_catalog.set_config('search_path', saved, true);
        RETURN false; -- a comment with RETURN in it
    END IF;
    PERFORM pg_catalog.set_config( 'search_path',  saved, true );
    RETURN true;
END;
`

func TestCheckPinned(t *testing.T) {
	tests := []struct {
		name, body, want string // want "" = pinned
	}{
		{"pinned", pinned, ""},
		{"no pin", strings.Replace(pinned, "PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);", "", 1), "first statement"},
		{"pin not first", strings.Replace(pinned, "BEGIN\n", "BEGIN\n    n := 1;\n", 1), "first statement"},
		{"weaker pin", strings.Replace(pinned, "'pg_catalog, pg_temp'", "'public, pg_catalog'", 1), "first statement"},
		{"unqualified set_config", strings.Replace(pinned, "PERFORM pg_catalog.set_config('search_path', 'pg_catalog", "PERFORM set_config('search_path', 'pg_catalog", 1), "first statement"},
		{"code in DECLARE", strings.Replace(pinned, "n pg_catalog.int4 := 0;", "n pg_catalog.int4 := lower('X')::int;", 1), "before search_path is pinned"},
		{"return without restore", strings.Replace(pinned, "        PERFORM pg_catalog.set_config('search_path', saved, true);\n        RETURN false;", "        n := 1;\n        RETURN false;", 1), "not directly preceded"},
		{"restore in the middle", strings.Replace(pinned, "    IF n = 0", "    PERFORM pg_catalog.set_config('search_path', saved, true);\n    n := 2;\n    IF n = 0", 1), "search_path changed"},
		{"inline RETURN", strings.Replace(pinned, "        RETURN false;", "        IF n = 1 THEN RETURN false; END IF;", 1), "search_path changed"},
		{"RETURN inside a block", strings.Replace(pinned, "    PERFORM pg_catalog.set_config( 'search_path',  saved, true );\n    RETURN true;", "    IF n = 1 THEN RETURN true; END IF;", 1), "RETURN inside"},
		{"caller path never saved", strings.Replace(pinned, "pg_catalog.current_setting('search_path')", "''", 1), "never saved"},
		{"unqualified declared type", strings.Replace(pinned, "n pg_catalog.int4 := 0;", "n int := 0;", 1), `declaration of n has type "int": qualify it`},
		{"declared type in another schema", strings.Replace(pinned, "saved pg_catalog.text", "saved pg_temp.text", 1), "declaration of saved has type"},
		{"SET clause style (nothing in body)", "\nBEGIN\n  RETURN 1;\nEND;\n", "first statement"},
		{"empty", "  ", "empty body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlfuncs.CheckPinned(tc.body)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want pinned, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestCreateSQLMatchesProviderShape(t *testing.T) {
	f := sqlfuncs.Function{
		Schema: "utility", Name: "create_role", Returns: "boolean", Language: "plpgsql", SecurityDefiner: true,
		Args: []sqlfuncs.Arg{{Name: "role_name", Type: "text"}, {Name: "password_verifier", Type: "text", Default: "NULL"}},
		Body: "\nBEGIN\nEND;\n",
	}
	want := "CREATE  OR REPLACE FUNCTION \"utility\".\"create_role\" (\n    IN role_name text,\n    IN password_verifier text DEFAULT NULL\n)\nRETURNS boolean\nLANGUAGE plpgsql\nSECURITY DEFINER\nAS $function$\nBEGIN\nEND;\n$function$;"
	if got := f.CreateSQL(true); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got := f.Signature(); got != "utility.create_role(text, text)" {
		t.Fatalf("signature %s", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []sqlfuncs.Options{{Schema: "Utility"}, {Server: "x;drop"}, {TemplateDB: "pg_template"}, {UtilityRole: strings.Repeat("a", 64)}} {
		if _, err := sqlfuncs.Definitions(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestValidIdentifier(t *testing.T) {
	for _, ok := range []string{"etl_writer", "_x", "gis2"} {
		if err := sqlfuncs.ValidIdentifier("role", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"Etl": "lower-case", "a-b": "lower-case", "x'y": "lower-case", "": "lower-case",
		strings.Repeat("a", 64): "63 bytes", "pg_x": "reserved prefix", "rdsx": "reserved prefix", "postgres": "reserved",
	} {
		if err := sqlfuncs.ValidIdentifier("role", bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want error with %q, got %v", bad, want, err)
		}
	}
}
