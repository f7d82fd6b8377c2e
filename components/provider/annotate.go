package provider

import (
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// describe gives each input or output field of w (a pointer to a struct)
// the Go documentation of the field it stands for: the field of the same
// name of goType ("securitygroup.Args"), or the one its godoc tag names.
// Go field names in the text become input names ("VpcID is" reads "vpcId
// is"). A field the Go source leaves undocumented has no description, which
// TestSchemaServesEachComponentDocumented refuses.
func describe(a infer.Annotator, w any, goType string) {
	v := reflect.ValueOf(w).Elem()
	t := v.Type()
	names := schemaNames(t, map[string]string{}, map[reflect.Type]bool{})
	for i := range t.NumField() {
		f := t.Field(i)
		if _, ok := tagName(f); !ok || !f.IsExported() {
			continue
		}
		if d := fieldDoc(goType, f); d != "" {
			a.Describe(v.Field(i).Addr().Interface(), renameOutsideQuotes(d, names))
		}
	}
}

// annotateObject names the object type w (a pointer to one of
// objectTypes) and documents it and its fields with goType's docs.
func annotateObject(a infer.Annotator, w any, goType string) {
	parts := strings.Split(objectTypes[reflect.TypeOf(w).Elem()], ":")
	a.SetToken(tokens.ModuleName(parts[1]), tokens.TypeName(parts[2]))
	a.Describe(w, goDocs[goType])
	describe(a, w, goType)
}

// fieldDoc is the Go doc comment of the field f stands for.
func fieldDoc(goType string, f reflect.StructField) string {
	name := f.Name
	if tag := f.Tag.Get("godoc"); tag != "" {
		name = tag
	}
	if strings.Contains(name, ".") { // a field of another Go type
		return goDocs[name]
	}
	return goDocs[goType+"."+name]
}
