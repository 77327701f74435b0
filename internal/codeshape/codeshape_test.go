package codeshape

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot is the folder of go.mod, two levels up from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// sourceFiles parses every non-test .go file of the module, skipping node_modules, testdata,
// hidden folders and cdk.out.
func sourceFiles(t *testing.T, root string) (map[string]*ast.File, *token.FileSet) {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "node_modules" || name == "testdata" || name == "cdk.out" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, fset
}

func TestNoLongFunctions(t *testing.T) {
	root := moduleRoot(t)
	files, fset := sourceFiles(t, root)
	for rel, f := range files {
		if strings.HasPrefix(rel, "bench/") {
			continue
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			lines := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if lines > MaxFunctionLines {
				t.Errorf("%s:%d: %s is %d lines, more than %d", rel, fset.Position(fn.Pos()).Line, fn.Name.Name, lines, MaxFunctionLines)
			}
		}
	}
}

// contractValues are the values that only internal/contract may spell: environment variable
// names (Env*), key prefixes (Prefix*) and metric names (Metric*, not the namespace, which is
// also the reference stack's name), read from its source by the names of their constants.
func contractValues(t *testing.T, f *ast.File) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				n := name.Name
				metric := strings.HasPrefix(n, "Metric") && !strings.HasPrefix(n, "Metrics")
				if !(strings.HasPrefix(n, "Env") || strings.HasPrefix(n, "Prefix") || metric) || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[v] = n
			}
		}
	}
	return out
}

func TestContractSpelledOnce(t *testing.T) {
	root := moduleRoot(t)
	files, fset := sourceFiles(t, root)
	owned := map[string]string{} // value -> constant name
	for rel, f := range files {
		if strings.HasPrefix(rel, "internal/contract/") {
			for v, n := range contractValues(t, f) {
				owned[v] = n
			}
		}
	}
	for _, want := range []string{"TABLE_NAME", "CALLBACK_URL", "AUTH_ISSUER", "CONN#", "ROOM#", "SEQ#", "FanoutFailures", "MessagesSent"} {
		if _, ok := owned[want]; !ok {
			t.Fatalf("internal/contract does not define %q: the check reads the wrong constants", want)
		}
	}
	for rel, f := range files {
		if strings.HasPrefix(rel, "internal/contract/") {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if name, ok := owned[v]; ok {
				t.Errorf("%s:%d: %q is contract.%s: use the constant", rel, fset.Position(lit.Pos()).Line, v, name)
			}
			return true
		})
	}
}

// TestContractValuesDistinct keeps two constants from sharing a value by accident.
func TestContractValuesDistinct(t *testing.T) {
	root := moduleRoot(t)
	files, _ := sourceFiles(t, root)
	seen := map[string]string{}
	for rel, f := range files {
		if !strings.HasPrefix(rel, "internal/contract/") {
			continue
		}
		for v, n := range contractValues(t, f) {
			if other, ok := seen[v]; ok && !reflect.DeepEqual(other, n) {
				t.Errorf("contract.%s and contract.%s are both %q", n, other, v)
			}
			seen[v] = n
		}
	}
}
