package ddblocal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ModulePath is the path of the Go module whose root holds package.json and node_modules.
const ModulePath = "github.com/chatstack/websocketchatapi"

// JarPath is where DynamoDBLocal.jar sits relative to the module root.
const JarPath = "node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar"

// FindJar returns the path of DynamoDBLocal.jar: $DYNAMODB_LOCAL_JAR when set, otherwise JarPath
// under the module root found by walking up from the working directory. When that jar is missing
// and npm is on PATH, it runs `npm ci --no-audit --no-fund` at the module root (one process at a
// time, under a lock file in the temporary directory) and looks again.
func FindJar(ctx context.Context) (string, error) {
	if jar := os.Getenv(EnvJar); jar != "" {
		if _, err := os.Stat(jar); err != nil {
			return "", fmt.Errorf("ddblocal: %s=%s: %w", EnvJar, jar, err)
		}
		return jar, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	jar := filepath.Join(root, filepath.FromSlash(JarPath))
	if exists(jar) {
		return jar, nil
	}
	notFound := fmt.Errorf("ddblocal: DynamoDB Local not found: run `npm ci` at %s", root)
	if _, err := exec.LookPath("npm"); err != nil {
		return "", notFound
	}
	if err := npmCI(ctx, root, jar); err != nil {
		return "", fmt.Errorf("%w (automatic npm ci failed: %v)", notFound, err)
	}
	if !exists(jar) {
		return "", fmt.Errorf("%w (npm ci ran but %s is still missing)", notFound, JarPath)
	}
	return jar, nil
}

// moduleRoot walks up from the working directory to the directory whose go.mod declares
// ModulePath.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("ddblocal: working directory: %w", err)
	}
	for dir := wd; ; {
		if modulePathOf(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("ddblocal: no go.mod of module %s above %s; set %s", ModulePath, wd, EnvJar)
		}
		dir = parent
	}
}

// modulePathOf returns the module path declared by the go.mod file at path, or "" when there
// is none.
func modulePathOf(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// npmCI runs `npm ci` at root unless, once the lock is held, jar already exists (another
// process installed it meanwhile).
func npmCI(ctx context.Context, root, jar string) error {
	sum := sha256.Sum256([]byte(root))
	lockPath := filepath.Join(os.TempDir(), "ddblocal-npm-"+hex.EncodeToString(sum[:8])+".lock")
	unlock, err := lockFile(lockPath)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	defer unlock()
	if exists(jar) {
		return nil
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", root, err, lastBytes(out, 4<<10))
	}
	return nil
}

// exists reports whether path names an existing file.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// lastBytes returns at most the last n bytes of b.
func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
