package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/chatstack/websocketchatapi/integ/internal/assembly"
	"github.com/chatstack/websocketchatapi/integ/internal/lambdaemu"
)

// handlerPackagePrefix starts the import path of every built-in handler's main package.
const handlerPackagePrefix = "github.com/chatstack/websocketchatapi/lambdas/"

// handlerOf returns the handler (lambdas/<name>) whose build a bootstrap is, from the Go build
// information the binary carries (kept by -s -w and -trimpath).
func handlerOf(bootstrap string) (string, error) {
	info, err := buildinfo.ReadFile(bootstrap)
	if err != nil {
		return "", fmt.Errorf("read build info of %s: %w", bootstrap, err)
	}
	name, ok := strings.CutPrefix(info.Path, handlerPackagePrefix)
	if !ok || strings.Contains(name, "/") {
		return "", fmt.Errorf("%s is a build of %s, not of a handler under %s", bootstrap, info.Path, handlerPackagePrefix)
	}
	return name, nil
}

// functionHandlers maps each function's name to its handler (chat, connect, ...).
func functionHandlers(st *assembly.Stack) (map[string]string, error) {
	out := map[string]string{}
	for _, fn := range st.SortedFunctions() {
		if fn.Code.AssetDir == "" {
			return nil, fmt.Errorf("function %s has no asset folder", fn.LogicalID)
		}
		h, err := handlerOf(filepath.Join(fn.Code.AssetDir, lambdaemu.BootstrapName))
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", fn.LogicalID, err)
		}
		out[fn.Name] = h
	}
	return out, nil
}

// makeVariant copies the cloud assembly src to dst and changes the copy: with native, every
// function's bootstrap is rebuilt for this machine (lambdaemu.BuildHost of lambdas/<handler>
// under root, the construct's flags) and declared x86_64/this host's architecture, so the
// emulator runs it without qemu; with concurrency > 0, every function gets
// ReservedConcurrentExecutions = concurrency, which the emulator takes as its process cap.
func makeVariant(ctx context.Context, root, src, dst string, native bool, concurrency int) error {
	asm, err := assembly.Load(src, assembly.Options{})
	if err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	st, err := asm.Stack("")
	if err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	if err := copyTree(src, dst); err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	rel, err := filepath.Rel(src, st.TemplateFile)
	if err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	tplPath := filepath.Join(dst, rel)
	raw, err := os.ReadFile(tplPath)
	if err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		return fmt.Errorf("variant: %s: %w", tplPath, err)
	}
	resources, _ := tpl["Resources"].(map[string]any)
	for _, fn := range st.SortedFunctions() {
		res, _ := resources[fn.LogicalID].(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		if props == nil {
			return fmt.Errorf("variant: function %s: no Properties in %s", fn.LogicalID, tplPath)
		}
		if concurrency > 0 {
			props["ReservedConcurrentExecutions"] = concurrency
		}
		if !native {
			continue
		}
		props["Architectures"] = []string{hostArchitecture()}
		relAsset, err := filepath.Rel(src, fn.Code.AssetDir)
		if err != nil {
			return fmt.Errorf("variant: %w", err)
		}
		h, err := handlerOf(filepath.Join(fn.Code.AssetDir, lambdaemu.BootstrapName))
		if err != nil {
			return fmt.Errorf("variant: function %s: %w", fn.LogicalID, err)
		}
		if _, err := lambdaemu.BuildHost(ctx, filepath.Join(root, "lambdas", h), filepath.Join(dst, relAsset)); err != nil {
			return fmt.Errorf("variant: function %s: %w", fn.LogicalID, err)
		}
	}
	out, err := json.MarshalIndent(tpl, "", " ")
	if err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	if err := os.WriteFile(tplPath, out, 0o644); err != nil {
		return fmt.Errorf("variant: %w", err)
	}
	return nil
}

// hostArchitecture is this machine's architecture in Lambda's words.
func hostArchitecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}

// copyTree copies the regular files and folders under src to dst, keeping modes.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode().IsRegular():
			return copyFile(p, target, info.Mode().Perm())
		}
		return nil // symlinks and the like: an assembly has none
	})
}

// copyFile copies one file.
func copyFile(src, dst string, mode os.FileMode) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}
