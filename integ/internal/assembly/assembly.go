package assembly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Options sets the local values a stack is resolved with. The zero value gives the defaults.
type Options struct {
	// Region is AWS::Region (default: the stack's environment if concrete, else us-east-1).
	Region string
	// AccountID is AWS::AccountId (default: the stack's environment if concrete, else
	// 000000000000).
	AccountID string
	// Partition is AWS::Partition (default aws).
	Partition string
	// URLSuffix is AWS::URLSuffix (default amazonaws.com).
	URLSuffix string
	// StackName is AWS::StackName for LoadTemplate (default: the file name without
	// .template.json). Load names each stack as its manifest does.
	StackName string
	// APIID is the id of the first AWS::ApiGatewayV2::Api in logical id order (default
	// localapi01).
	APIID string
	// Parameters sets template parameter values; they win over the manifest's and the defaults.
	Parameters map[string]string
	// PhysicalIDs sets the physical id (Ref value) of resources by logical id, overriding the
	// naming rules of Resolver.PhysicalID.
	PhysicalIDs map[string]string
}

// Assembly is a loaded cloud assembly.
type Assembly struct {
	// Dir is the assembly directory.
	Dir string
	// Version is the cloud assembly schema version of manifest.json.
	Version string
	// Stacks lists the stacks (aws:cloudformation:stack artifacts, nested assemblies included)
	// in artifact id order.
	Stacks []*Stack
}

// Stack returns the stack whose name or artifact id is name; with name "" it returns the only
// stack of the assembly.
func (a *Assembly) Stack(name string) (*Stack, error) {
	var names []string
	for _, s := range a.Stacks {
		names = append(names, s.Name)
	}
	if name == "" {
		if len(a.Stacks) != 1 {
			return nil, fmt.Errorf("cloud assembly %s has %d stacks (%s): name one", a.Dir, len(a.Stacks), strings.Join(names, ", "))
		}
		return a.Stacks[0], nil
	}
	for _, s := range a.Stacks {
		if s.Name == name || s.ArtifactID == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("cloud assembly %s has no stack %q (stacks: %s)", a.Dir, name, strings.Join(names, ", "))
}

// manifest is the part of manifest.json the loader reads.
type manifest struct {
	Version   string              `json:"version"`
	Artifacts map[string]artifact `json:"artifacts"`
}

// artifact is one entry of manifest.json's artifacts.
type artifact struct {
	Type         string          `json:"type"`
	Environment  string          `json:"environment"`
	Properties   json.RawMessage `json:"properties"`
	Dependencies []string        `json:"dependencies"`
}

// stackArtifactProps are the properties of an aws:cloudformation:stack artifact.
type stackArtifactProps struct {
	TemplateFile string            `json:"templateFile"`
	StackName    string            `json:"stackName"`
	Parameters   map[string]string `json:"parameters"`
}

// assetsFile is a *.assets.json asset manifest.
type assetsFile struct {
	Files map[string]struct {
		DisplayName string `json:"displayName"`
		Source      struct {
			Path       string   `json:"path"`
			Packaging  string   `json:"packaging"`
			Executable []string `json:"executable"`
		} `json:"source"`
		Destinations map[string]struct {
			BucketName string `json:"bucketName"`
			ObjectKey  string `json:"objectKey"`
		} `json:"destinations"`
	} `json:"files"`
}

// Load reads the cloud assembly in dir: manifest.json, every stack's template and the asset
// manifests, and resolves each stack. A Lambda function whose Code.S3Key is not published by an
// asset of the assembly, or whose asset is missing on disk, is an error.
func Load(dir string, opts Options) (*Assembly, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("load cloud assembly %s: %w", dir, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("load cloud assembly: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("load cloud assembly %s: manifest.json: %w", abs, err)
	}
	a := &Assembly{Dir: abs, Version: m.Version}
	for _, id := range sortedKeys(m.Artifacts) {
		art := m.Artifacts[id]
		switch art.Type {
		case "aws:cloudformation:stack":
			st, err := loadStackArtifact(abs, id, art, m, opts)
			if err != nil {
				return nil, fmt.Errorf("load cloud assembly %s: stack %s: %w", abs, id, err)
			}
			a.Stacks = append(a.Stacks, st)
		case "cdk:cloud-assembly":
			var p struct {
				DirectoryName string `json:"directoryName"`
			}
			if err := json.Unmarshal(art.Properties, &p); err != nil || p.DirectoryName == "" {
				return nil, fmt.Errorf("load cloud assembly %s: artifact %s: no directoryName", abs, id)
			}
			nested, err := Load(filepath.Join(abs, p.DirectoryName), opts)
			if err != nil {
				return nil, fmt.Errorf("load cloud assembly %s: nested assembly %s: %w", abs, id, err)
			}
			a.Stacks = append(a.Stacks, nested.Stacks...)
		}
	}
	if len(a.Stacks) == 0 {
		return nil, fmt.Errorf("load cloud assembly %s: no aws:cloudformation:stack artifact in manifest.json", abs)
	}
	return a, nil
}

// loadStackArtifact loads one stack artifact with the assets of the asset manifests it depends on.
func loadStackArtifact(dir, id string, art artifact, m manifest, opts Options) (*Stack, error) {
	var p stackArtifactProps
	if err := json.Unmarshal(art.Properties, &p); err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	if p.TemplateFile == "" {
		return nil, fmt.Errorf("properties: no templateFile")
	}
	name := p.StackName
	if name == "" {
		name = id
	}
	assets := map[string]*Asset{}
	var list []*Asset
	for _, dep := range art.Dependencies {
		d, ok := m.Artifacts[dep]
		if !ok || d.Type != "cdk:asset-manifest" {
			continue
		}
		var ap struct {
			File string `json:"file"`
		}
		if err := json.Unmarshal(d.Properties, &ap); err != nil || ap.File == "" {
			return nil, fmt.Errorf("asset manifest %s: no file", dep)
		}
		got, err := readAssets(dir, filepath.Join(dir, ap.File))
		if err != nil {
			return nil, fmt.Errorf("asset manifest %s: %w", dep, err)
		}
		for _, a := range got {
			list = append(list, a)
			for _, k := range a.ObjectKeys {
				assets[k] = a
			}
		}
	}
	params := map[string]string{}
	for k, v := range p.Parameters {
		params[k] = v
	}
	for k, v := range opts.Parameters {
		params[k] = v
	}
	opts.Parameters = params
	account, region := envOf(art.Environment)
	if opts.AccountID == "" {
		opts.AccountID = account
	}
	if opts.Region == "" {
		opts.Region = region
	}
	st, err := loadStack(filepath.Join(dir, p.TemplateFile), name, opts, assets)
	if err != nil {
		return nil, err
	}
	st.ArtifactID = id
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	st.Assets = list
	return st, nil
}

// envOf splits aws://account/region, returning "" for unknown-account and unknown-region.
func envOf(env string) (account, region string) {
	rest, ok := strings.CutPrefix(env, "aws://")
	if !ok {
		return "", ""
	}
	account, region, _ = strings.Cut(rest, "/")
	if account == "unknown-account" {
		account = ""
	}
	if region == "unknown-region" {
		region = ""
	}
	return account, region
}

// readAssets reads the file assets of one *.assets.json; relative source paths are relative to
// the assembly directory. Assets built by a command (source.executable) have no local path and
// are skipped.
func readAssets(dir, file string) ([]*Asset, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var af assetsFile
	if err := json.Unmarshal(data, &af); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []*Asset
	for _, id := range sortedKeys(af.Files) {
		f := af.Files[id]
		if f.Source.Path == "" {
			continue
		}
		path := f.Source.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		a := &Asset{ID: id, DisplayName: f.DisplayName, Path: path, Packaging: f.Source.Packaging}
		for _, dk := range sortedKeys(f.Destinations) {
			if k := f.Destinations[dk].ObjectKey; k != "" {
				a.ObjectKeys = append(a.ObjectKeys, k)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// LoadTemplate reads and resolves a lone CloudFormation template (no manifest, no assets: the
// functions' Code.AssetDir stays empty).
func LoadTemplate(path string, opts Options) (*Stack, error) {
	name := opts.StackName
	if name == "" {
		name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".json"), ".template")
	}
	st, err := loadStack(path, name, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	return st, nil
}

// loadStack parses, resolves and models one template.
func loadStack(path, name string, opts Options, assets map[string]*Asset) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tpl, err := parseTemplate(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if opts.APIID == "" {
		opts.APIID = "localapi01"
	}
	env := Env{Region: opts.Region, AccountID: opts.AccountID, Partition: opts.Partition, URLSuffix: opts.URLSuffix}.withDefaults()
	st := &Stack{Name: name, TemplateFile: path}
	if err := buildStack(st, tpl, newResolver(tpl, env, name, opts), assets); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}
