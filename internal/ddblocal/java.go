package ddblocal

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// javaInstallHint says how to get the Java runtime DynamoDB Local needs.
const javaInstallHint = "DynamoDB Local is a Java program: install a Java runtime, version 8 or newer " +
	"(Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless; macOS: brew install openjdk@17; " +
	"others: https://adoptium.net), then put java on the PATH or set JAVA_HOME"

// FindJava returns the java command DynamoDB Local runs with: $JAVA_HOME/bin/java when
// JAVA_HOME is set, else java on the PATH, after checking that `java -version` runs. Its error
// says how to install Java.
func FindJava(ctx context.Context) (string, error) {
	var java string
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java = filepath.Join(home, "bin", "java")
		if !exists(java) {
			return "", fmt.Errorf("ddblocal: JAVA_HOME=%s has no bin/java. %s", home, javaInstallHint)
		}
	} else {
		p, err := exec.LookPath("java")
		if err != nil {
			return "", fmt.Errorf("ddblocal: java is not on the PATH. %s", javaInstallHint)
		}
		java = p
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, java, "-version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ddblocal: %s -version failed: %v: %s. %s", java, err, strings.TrimSpace(string(lastBytes(out, 512))), javaInstallHint)
	}
	return java, nil
}
