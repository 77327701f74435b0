// Package ddblocal starts AWS's DynamoDB Local emulator for tests and local tools.
//
// The emulator is the DynamoDBLocal.jar shipped by the npm package amplify-dynamodb-simulator at
// the version SimulatorVersion pins, fetched once into the user's cache directory (Fetch), or the
// jar that DYNAMODB_LOCAL_JAR names. Start runs it in memory with -sharedDb, so every
// client sees the same tables whatever its access key and region, on a free port, and waits
// until it answers. Close kills its whole process group.
//
// The tests of a package share one emulator through package ddblocaltest, and each test makes
// a client with NewClient and a table of its own (tables are cheap; unique names keep tests
// independent).
package ddblocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

const (
	// EnvJar names the environment variable that, when set, gives the path of DynamoDBLocal.jar
	// to use instead of the fetched one (see Fetch). Its directory must also hold
	// DynamoDBLocal_lib.
	EnvJar = "DYNAMODB_LOCAL_JAR"
	// EnvJavaOpts names the environment variable that, when set, replaces DefaultJavaOpts
	// (split on white space).
	EnvJavaOpts = "DYNAMODB_LOCAL_JAVA_OPTS"
	// DefaultJavaOpts are the JVM options used unless EnvJavaOpts is set. The client compiler
	// only and the serial collector roughly halve the emulator's start on a busy 2-core machine.
	DefaultJavaOpts = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
	// Region is the region of the clients NewClient makes.
	Region = "us-east-1"
	// StartTimeout bounds how long Start waits for the emulator to answer when ctx has no
	// earlier deadline.
	StartTimeout = 60 * time.Second
)

// bindAttempts is how many ports Start tries: another process may take the free port it picked
// before the JVM binds it.
const bindAttempts = 3

// errBind reports that the emulator could not bind its port.
var errBind = errors.New("port already in use")

// Server is a running DynamoDB Local process.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	output   *tail
	exited   chan struct{} // closed once the process has been waited for
	waitErr  error         // valid after exited is closed

	closeOnce sync.Once
	closeErr  error
}

// Start starts DynamoDB Local in memory with -sharedDb on a free port and returns once it
// answers ListTables. ctx bounds only the start (at most StartTimeout, plus a first fetch of
// the emulator); the process lives until Close. It checks Java first (FindJava), then finds or
// fetches the jar (FindJar).
func Start(ctx context.Context) (*Server, error) {
	java, err := FindJava(ctx)
	if err != nil {
		return nil, err
	}
	jar, err := FindJar(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, java, jar)
		if errors.Is(err, errBind) && attempt < bindAttempts {
			continue
		}
		return s, err
	}
}

// start makes one attempt at starting the emulator on a fresh free port.
func start(ctx context.Context, java, jar string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("ddblocal: pick a port: %w", err)
	}
	return startOn(ctx, java, jar, port)
}

// startOn starts the emulator with the java command javaBin on port and waits until it answers.
func startOn(ctx context.Context, javaBin, jar string, port int) (*Server, error) {
	opts := DefaultJavaOpts
	if v, ok := os.LookupEnv(EnvJavaOpts); ok {
		opts = v
	}
	dir := filepath.Dir(jar)
	args := append(strings.Fields(opts),
		"-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"),
		"-jar", jar,
		"-inMemory", "-sharedDb", "-disableTelemetry",
		"-port", strconv.Itoa(port))
	// Not exec.CommandContext: ctx bounds the start, not the life of the process.
	cmd := exec.Command(javaBin, args...)
	cmd.Dir = dir
	out := &tail{max: 8 << 10}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ddblocal: start %s: %w", javaBin, err)
	}
	s := &Server{
		cmd:      cmd,
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		output:   out,
		exited:   make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// waitReady polls ListTables until the emulator answers, the process dies or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	client, err := NewClient(s.endpoint)
	if err != nil {
		return err
	}
	noRetry := func(o *dynamodb.Options) { o.Retryer = aws.NopRetryer{} }
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		// The JVM does not exit when it fails to bind: its main thread dies, others live on.
		if s.output.contains("java.net.BindException") {
			return fmt.Errorf("ddblocal: %s: %w\n%s", s.endpoint, errBind, s.output.String())
		}
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(attemptCtx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}, noRetry)
		cancel()
		if err == nil {
			if s.output.contains("java.net.BindException") {
				// Something else answered on the port we picked.
				return fmt.Errorf("ddblocal: %s: %w\n%s", s.endpoint, errBind, s.output.String())
			}
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("ddblocal: DynamoDB Local exited during start (%v); output:\n%s",
				s.waitErr, s.output.String())
		case <-ctx.Done():
			return fmt.Errorf("ddblocal: DynamoDB Local did not answer at %s: %w (last error: %v); output:\n%s",
				s.endpoint, ctx.Err(), err, s.output.String())
		case <-ticker.C:
		}
	}
}

// Endpoint returns the emulator's URL, http://127.0.0.1:<port>.
func (s *Server) Endpoint() string { return s.endpoint }

// Close kills the emulator's process group and waits for the process to exit. It is safe to
// call more than once; the tables, held in memory, are lost.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.exited:
			return // already gone
		default:
		}
		if err := killGroup(s.cmd.Process); err != nil {
			s.closeErr = fmt.Errorf("ddblocal: kill DynamoDB Local (pid %d): %w", s.cmd.Process.Pid, err)
			return
		}
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.closeErr = fmt.Errorf("ddblocal: DynamoDB Local (pid %d) did not exit after kill", s.cmd.Process.Pid)
		}
	})
	return s.closeErr
}

// NewClient returns a DynamoDB client for the emulator at endpoint, with static dummy
// credentials and region us-east-1. It reads neither the environment nor the shared AWS config
// files, so a developer's AWS profile cannot leak into tests. ctx is unused today; it keeps the
// signature of a constructor that may need to load configuration.
func NewClient(endpoint string) (*dynamodb.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ddblocal: endpoint %q: want http(s)://host:port", endpoint)
	}
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		// DynamoDB Local 1.23+ rejects access keys that are not alphanumeric.
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}), nil
}

// freePort returns a TCP port that is free on all interfaces: the emulator binds 0.0.0.0.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail is an io.Writer that keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write appends p, dropping the oldest bytes beyond max.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept bytes.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// contains reports whether the kept bytes contain s.
func (t *tail) contains(s string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Contains(t.buf, []byte(s))
}
