package ddblocal

import (
	"context"
	"strings"
	"testing"
)

func TestFindJavaSaysHowToInstall(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	t.Setenv("JAVA_HOME", home)
	if _, err := FindJava(ctx); err == nil || !strings.Contains(err.Error(), "JAVA_HOME="+home+" has no bin/java") || !strings.Contains(err.Error(), "apt-get install -y openjdk-17-jre-headless") {
		t.Errorf("FindJava with an empty JAVA_HOME: %v", err)
	}
	t.Setenv("JAVA_HOME", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := FindJava(ctx); err == nil || !strings.Contains(err.Error(), "java is not on the PATH") || !strings.Contains(err.Error(), "brew install openjdk@17") {
		t.Errorf("FindJava without java: %v", err)
	}
}
