package postgresql

import (
	"fmt"
	"strings"
	"testing"

	"github.com/postgis-platform/deployer/sqlfuncs"
)

// Every utility function reads back as written: the provider reads a body
// out of pg_get_functiondef with a regular expression (parseFunctionDef,
// upstream PGFunction.Parse) that stops at the last dollar-quote but one, so
// a dollar-quoted string inside a body would read back cut, as drift on
// every refresh and an update on every up.
func TestUtilityFunctionsReadBackAsWritten(t *testing.T) {
	fns, err := sqlfuncs.Definitions(sqlfuncs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		t.Run(f.Name, func(t *testing.T) {
			args := make([]string, len(f.Args))
			for i, a := range f.Args {
				args[i] = a.Name + " " + a.Type
				if a.Default != "" {
					args[i] += " DEFAULT " + a.Default
				}
			}
			// The shape pg_get_functiondef gives.
			def := fmt.Sprintf("CREATE OR REPLACE FUNCTION %s.%s(%s)\n RETURNS %s\n LANGUAGE %s\n SECURITY DEFINER\nAS $function$%s$function$\n",
				f.Schema, f.Name, strings.Join(args, ", "), f.Returns, f.Language, f.Body)
			got := parseFunctionDef(def)
			if got["body"] != f.Body {
				t.Errorf("the body reads back as %d bytes, want the %d written (a dollar quote inside the body?)", len(got["body"].(string)), len(f.Body))
			}
			if got["name"] != f.Name || got["securityDefiner"] != true || got["returns"] != f.Returns {
				t.Errorf("read back as %v", got)
			}
		})
	}
	// The check bites: a body with a dollar-quoted string reads back cut.
	def := "CREATE OR REPLACE FUNCTION utility.f()\n RETURNS integer\n LANGUAGE plpgsql\n SECURITY DEFINER\nAS $function$\nBEGIN PERFORM $q$x$q$; RETURN 1; END;\n$function$\n"
	if body := parseFunctionDef(def)["body"]; body == "\nBEGIN PERFORM $q$x$q$; RETURN 1; END;\n" {
		t.Fatal("a dollar-quoted string in a body read back whole: the test would not catch one")
	}
}
