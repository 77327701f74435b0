package sqslocal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SenderHeader is the request header from which the server takes the SenderId of the messages
// a SendMessage or SendMessageBatch request sends (an IAM proxy sets it to the caller's id);
// without it the sender is the account id.
const SenderHeader = "X-Sqslocal-Sender-Id"

// StartTimeout bounds how long Start waits for the server (the build of goawsd excluded) when
// ctx has no earlier deadline.
const StartTimeout = 30 * time.Second

// Options configure Start.
type Options struct {
	// Region and Partition are those of the queue ARNs; default us-east-1 and aws.
	Region, Partition string
	// AccountID is the account of the queue URLs and ARNs; default 000000000000.
	AccountID string
	// LogSink receives goaws's own warnings and errors; default: discarded.
	LogSink io.Writer
}

// Server is a running goawsd process.
type Server struct {
	opts     Options
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	endpoint string
	exited   chan struct{}
	waitErr  error

	closeOnce sync.Once
	closeErr  error
}

// Start builds goawsd if needed and runs it; it returns once the server listens. ctx bounds
// the start only.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Partition == "" {
		opts.Partition = "aws"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	bin, err := binary(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	// Not exec.CommandContext: ctx bounds the start, not the life of the process.
	cmd := exec.Command(bin, "-region", opts.Region, "-account", opts.AccountID, "-partition", opts.Partition)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("sqslocal: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("sqslocal: %w", err)
	}
	cmd.Stderr = opts.LogSink
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sqslocal: start %s: %w", bin, err)
	}
	s := &Server{opts: opts, cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			addr <- strings.TrimPrefix(sc.Text(), "listening ")
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	select {
	case a := <-addr:
		s.endpoint = "http://" + a
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("sqslocal: goawsd exited during start: %v", s.waitErr)
	case <-ctx.Done():
		_ = s.Close()
		return nil, fmt.Errorf("sqslocal: goawsd did not start: %w", ctx.Err())
	}
}

// Endpoint returns the server's URL, http://127.0.0.1:<port>.
func (s *Server) Endpoint() string { return s.endpoint }

// QueueURL returns the URL of the queue named name.
func (s *Server) QueueURL(name string) string {
	return s.endpoint + "/" + s.opts.AccountID + "/" + name
}

// QueueARN returns the ARN of the queue named name.
func (s *Server) QueueARN(name string) string {
	return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", s.opts.Partition, s.opts.Region, s.opts.AccountID, name)
}

// Close stops the server; its queues and messages are lost. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		_ = s.stdin.Close() // goawsd exits on end of input
		select {
		case <-s.exited:
			return
		case <-time.After(2 * time.Second):
		}
		if err := killGroup(s.cmd.Process); err != nil {
			s.closeErr = fmt.Errorf("sqslocal: kill goawsd (pid %d): %w", s.cmd.Process.Pid, err)
			return
		}
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.closeErr = fmt.Errorf("sqslocal: goawsd (pid %d) did not exit after kill", s.cmd.Process.Pid)
		}
	})
	return s.closeErr
}

// NewClient returns an SQS client of endpoint (a Server's, or a proxy in front of it) in
// region with the given static credentials; empty ones mean dummy credentials. It reads
// neither the environment nor the shared AWS config files.
func NewClient(endpoint, region string, creds aws.Credentials) (*sqs.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sqslocal: endpoint %q: want http(s)://host:port", endpoint)
	}
	if creds.AccessKeyID == "" {
		creds = aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}
	}
	if region == "" {
		return nil, errors.New("sqslocal: empty region")
	}
	return sqs.New(sqs.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
	}), nil
}
