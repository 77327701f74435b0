package bundling

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// target is one distinct (package folder, architecture) of a Build call.
type target struct {
	dir        string // absolute package folder
	rel        string // dir relative to the module root, slash-separated
	importPath string
	hash       string
	cached     bool
}

// group holds the targets of one module root and architecture: one go list, one go build.
type group struct {
	root    string // folder holding the enclosing go.mod
	goarch  string
	targets []*target
	env     []string // environment of the go commands, set by plan
}

// buildFlags returns the go build flags, except -o. They are part of the hash.
func buildFlags() []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w"}
}

// listFields are the go list -json fields plan reads.
const listFields = "ImportPath,Name,Dir,Standard,Module,Deps,Error,DepsErrors," +
	"GoFiles,CgoFiles,CFiles,CXXFiles,MFiles,HFiles,FFiles,SFiles,SwigFiles,SwigCXXFiles,SysoFiles,EmbedFiles"

// group resolves the requests into targets (one per request, shared by duplicates) and groups
// them by module root and architecture, in order of first appearance.
func (r *runner) group(reqs []Request) ([]*target, []*group, error) {
	targets := make([]*target, len(reqs))
	groups := map[string]*group{}
	var order []*group
	var errs []error
	for i, req := range reqs {
		goarch, err := normalizeArch(req.Arch)
		if err != nil {
			errs = append(errs, fmt.Errorf("bundling: %s: %w", req.Dir, err))
			continue
		}
		dir, err := filepath.Abs(req.Dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("bundling: %s: %w", req.Dir, err))
			continue
		}
		if st, err := os.Stat(dir); err != nil {
			errs = append(errs, fmt.Errorf("bundling: package folder %s: %w", dir, err))
			continue
		} else if !st.IsDir() {
			errs = append(errs, fmt.Errorf("bundling: package folder %s: not a folder", dir))
			continue
		}
		root, err := moduleRoot(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("bundling: package folder %s: %w", dir, err))
			continue
		}
		key := root + "\x00" + goarch
		g := groups[key]
		if g == nil {
			g = &group{root: root, goarch: goarch}
			groups[key] = g
			order = append(order, g)
		}
		for _, t := range g.targets {
			if t.dir == dir {
				targets[i] = t
			}
		}
		if targets[i] == nil {
			rel, err := filepath.Rel(root, dir)
			if err != nil {
				errs = append(errs, fmt.Errorf("bundling: package folder %s: %w", dir, err))
				continue
			}
			targets[i] = &target{dir: dir, rel: filepath.ToSlash(rel)}
			g.targets = append(g.targets, targets[i])
		}
	}
	return targets, order, errors.Join(errs...)
}

// moduleRoot returns the nearest folder at or above dir that holds a go.mod, as the go command
// finds the main module.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && st.Mode().IsRegular() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("not inside a Go module (no go.mod in it or above it)")
		}
		d = parent
	}
}

// within reports whether path is base or inside it.
func within(base, path string) bool {
	rel, err := filepath.Rel(base, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// inModuleCache reports whether dir is inside the module cache modCache, symbolic links
// resolved.
func inModuleCache(modCache, dir string) bool {
	if modCache == "" {
		return false
	}
	if within(modCache, dir) {
		return true
	}
	realCache, err1 := filepath.EvalSymlinks(modCache)
	realDir, err2 := filepath.EvalSymlinks(dir)
	return err1 == nil && err2 == nil && within(realCache, realDir)
}

// plan sets the group's build environment and the hash and import path of each of its targets.
// modCache is go env GOMODCACHE.
func (r *runner) plan(ctx context.Context, g *group, modCache string) error {
	vals, gowork, err := r.buildEnv(ctx, g, modCache)
	if err != nil {
		return err
	}
	pkgs, err := r.listPackages(ctx, g)
	if err != nil {
		return err
	}
	header, err := hashHeader(g, vals, gowork)
	if err != nil {
		return err
	}
	h := &hasher{files: map[string]string{}, gomods: map[string]string{}}
	var errs []error
	for _, t := range g.targets {
		if err := h.planTarget(t, header, pkgs); err != nil {
			errs = append(errs, fmt.Errorf("bundling: %s: %w", t.dir, err))
		}
	}
	return errors.Join(errs...)
}

// buildEnv sets g.env and returns the go env values the hash records and the workspace file
// that applies ("" for none).
func (r *runner) buildEnv(ctx context.Context, g *group, modCache string) (map[string]string, string, error) {
	env := []string{"GOOS=linux", "GOARCH=" + g.goarch, "CGO_ENABLED=0"}
	inModCache := inModuleCache(modCache, g.root)
	if inModCache {
		// The read-only cache copy is built from its own go.mod and go.sum alone: no workspace
		// of the user's may pull other versions in.
		env = append(env, "GOWORK=off")
	}
	vals, err := r.goEnv(ctx, g.root, slices.Concat(env, []string{"GOFLAGS=-mod=readonly"}),
		"GOVERSION", "GOWORK", "GOARM64", "GOAMD64", "GOEXPERIMENT", "GOFIPS140")
	if err != nil {
		return nil, "", err
	}
	gowork := vals["GOWORK"]
	if gowork == "off" || inModCache {
		gowork = ""
	}
	// GOFLAGS is always set, so that none of the user's (-mod=mod, other tags, ...) applies, and
	// so that go.mod and go.sum are never written. Vendoring is kept where it is the default.
	vendorBase := g.root
	if gowork != "" {
		vendorBase = filepath.Dir(gowork)
	}
	goflags := "-mod=readonly"
	if !inModCache && fileExists(filepath.Join(vendorBase, "vendor", "modules.txt")) {
		goflags = "-mod=vendor"
	}
	g.env = append(env, "GOFLAGS="+goflags)
	return vals, gowork, nil
}

// listPackages sets each target's import path and returns every package the targets depend
// on, by import path, as go list reports them.
func (r *runner) listPackages(ctx context.Context, g *group) (map[string]*listedPackage, error) {
	gomod, err := readGoMod(filepath.Join(g.root, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("bundling: module of %s: %w", g.root, err)
	}
	modPath := gomod.Module.Mod.Path
	patterns := make([]string, len(g.targets))
	for i, t := range g.targets {
		patterns[i] = "./" + t.rel
		t.importPath = modPath
		if t.rel != "." {
			t.importPath = modPath + "/" + t.rel
		}
	}
	args := append([]string{"list", "-e", "-deps", "-json=" + listFields, "-tags", "lambda.norpc"}, patterns...)
	out, err := r.goCmd(ctx, g.root, g.env, args...)
	if err != nil {
		return nil, fmt.Errorf("bundling: listing %s: %w", strings.Join(patterns, " "), err)
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("bundling: reading go list output in %s: %w", g.root, err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs, nil
}

// hashHeader is what every target's hash starts with: the format, toolchain, target platform,
// build flags and workspace.
func hashHeader(g *group, vals map[string]string, gowork string) (string, error) {
	var header strings.Builder
	fmt.Fprintf(&header, "format %s\n", formatVersion)
	fmt.Fprintf(&header, "toolchain %q\n", vals["GOVERSION"])
	level := "GOARM64=" + vals["GOARM64"]
	if g.goarch == ArchAMD64 {
		level = "GOAMD64=" + vals["GOAMD64"]
	}
	fmt.Fprintf(&header, "target %q\n", []string{"GOOS=linux", "GOARCH=" + g.goarch, "CGO_ENABLED=0", level,
		"GOEXPERIMENT=" + vals["GOEXPERIMENT"], "GOFIPS140=" + vals["GOFIPS140"]})
	fmt.Fprintf(&header, "flags %q\n", buildFlags())
	if gowork != "" {
		line, err := workLine(gowork)
		if err != nil {
			return "", fmt.Errorf("bundling: workspace of %s: %w", g.root, err)
		}
		header.WriteString(line)
	}
	return header.String(), nil
}

// planTarget checks that t is a buildable main package and sets its hash.
func (h *hasher) planTarget(t *target, header string, pkgs map[string]*listedPackage) error {
	p := pkgs[t.importPath]
	if p == nil && t.rel == "." {
		p = pkgs["."] // how go list names a pattern it could not load
	} else if p == nil {
		p = pkgs["./"+t.rel]
	}
	switch {
	case p == nil:
		return fmt.Errorf("go list reported no package %s", t.importPath)
	case p.Error != nil:
		return errors.New(p.Error.Err)
	case len(p.DepsErrors) > 0:
		msgs := make([]string, len(p.DepsErrors))
		for i, e := range p.DepsErrors {
			msgs[i] = e.Err
		}
		return errors.New(strings.Join(msgs, "\n"))
	case p.Name != "main":
		return fmt.Errorf("package %s is not a main package (a handler is a command: package main)", p.Name)
	case len(p.GoFiles) == 0:
		return errors.New("no non-test Go files")
	}
	sum, err := h.target(header, p, pkgs)
	if err != nil {
		return err
	}
	t.hash = sum
	return nil
}

// listedPackage is the part of go list -json output plan reads.
type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	Module     *listedModule
	Deps       []string
	Error      *packageError
	DepsErrors []*packageError

	GoFiles, CgoFiles, CFiles, CXXFiles, MFiles, HFiles, FFiles, SFiles []string
	SwigFiles, SwigCXXFiles, SysoFiles, EmbedFiles                      []string
}

// packageError is a go list package error.
type packageError struct {
	Err string
}

// files returns the names, relative to p.Dir, of every file that goes into p's build.
func (p *listedPackage) files() []string {
	var names []string
	for _, list := range [][]string{p.GoFiles, p.CgoFiles, p.CFiles, p.CXXFiles, p.MFiles, p.HFiles,
		p.FFiles, p.SFiles, p.SwigFiles, p.SwigCXXFiles, p.SysoFiles, p.EmbedFiles} {
		names = append(names, list...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// hasher computes target hashes, remembering file and go.mod digests across the targets of a
// group.
type hasher struct {
	files  map[string]string // absolute file path → hex SHA-256
	gomods map[string]string // go.mod path → description line
}

// target returns the hash of the main package root of the listed packages pkgs.
func (h *hasher) target(header string, root *listedPackage, pkgs map[string]*listedPackage) (string, error) {
	sum := sha256.New()
	io.WriteString(sum, header)
	fmt.Fprintf(sum, "main %q\n", root.ImportPath)

	paths := append([]string{root.ImportPath}, root.Deps...)
	slices.Sort(paths)
	paths = slices.Compact(paths)
	localMods := map[string]string{} // module path → go.mod path
	for _, ip := range paths {
		p := pkgs[ip]
		if p == nil {
			return "", fmt.Errorf("go list did not report dependency %s", ip)
		}
		if p.Standard {
			continue
		}
		if p.Module == nil {
			return "", fmt.Errorf("package %s belongs to no module (GOPATH mode is not supported)", ip)
		}
		m := p.Module
		if m.Replace != nil && m.Replace.Version != "" {
			fmt.Fprintf(sum, "pkg %q %q %q\n", ip, m.Path+"@"+m.Version, m.Replace.Path+"@"+m.Replace.Version)
			continue
		}
		if m.Replace == nil && m.Version != "" {
			fmt.Fprintf(sum, "pkg %q %q\n", ip, m.Path+"@"+m.Version)
			continue
		}
		// An unversioned module: the main module, a workspace module or a folder replacement.
		fmt.Fprintf(sum, "pkg %q local %q\n", ip, m.Path)
		gomod := m.GoMod
		if m.Replace != nil {
			gomod = m.Replace.GoMod
			if gomod == "" {
				gomod = filepath.Join(m.Replace.Dir, "go.mod")
			}
		}
		localMods[m.Path] = gomod
		for _, name := range p.files() {
			d, err := h.file(filepath.Join(p.Dir, filepath.FromSlash(name)))
			if err != nil {
				return "", err
			}
			fmt.Fprintf(sum, "file %q %s\n", filepath.ToSlash(name), d)
		}
	}
	mods := make([]string, 0, len(localMods))
	for path := range localMods {
		mods = append(mods, path)
	}
	slices.Sort(mods)
	for _, path := range mods {
		line, err := h.gomod(localMods[path])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(sum, "module %q %s", path, line)
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// file returns the hex SHA-256 of a file's contents.
func (h *hasher) file(path string) (string, error) {
	if d, ok := h.files[path]; ok {
		return d, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	d := hex.EncodeToString(s.Sum(nil))
	h.files[path] = d
	return d, nil
}

// gomod describes the lines of a go.mod that change a build without changing any package's
// files or module versions: go, toolchain and godebug.
func (h *hasher) gomod(path string) (string, error) {
	if line, ok := h.gomods[path]; ok {
		return line, nil
	}
	f, err := readGoMod(path)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if f.Go != nil {
		fmt.Fprintf(&b, "go=%q ", f.Go.Version)
	}
	if f.Toolchain != nil {
		fmt.Fprintf(&b, "toolchain=%q ", f.Toolchain.Name)
	}
	writeGodebug(&b, f.Godebug)
	b.WriteString("\n")
	h.gomods[path] = b.String()
	return b.String(), nil
}

// readGoMod parses a go.mod file.
func readGoMod(path string) (*modfile.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, err
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module line", path)
	}
	return f, nil
}

// workLine describes the go, toolchain and godebug lines of a go.work file.
func workLine(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseWork(path, data, nil)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("work ")
	if f.Go != nil {
		fmt.Fprintf(&b, "go=%q ", f.Go.Version)
	}
	if f.Toolchain != nil {
		fmt.Fprintf(&b, "toolchain=%q ", f.Toolchain.Name)
	}
	writeGodebug(&b, f.Godebug)
	b.WriteString("\n")
	return b.String(), nil
}

// writeGodebug appends godebug settings in file order.
func writeGodebug(w io.Writer, list []*modfile.Godebug) {
	for _, d := range list {
		fmt.Fprintf(w, "godebug=%q ", d.Key+"="+d.Value)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
