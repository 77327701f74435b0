// Command goawsd serves goaws (github.com/Admiral-Piett/goaws), an SQS-compatible server, on a
// loopback port, with the corrections that make it answer as SQS does for what the local stack
// relies on (see fix.go). Package sqslocal builds and starts it; it is not meant to be run by
// hand.
//
// goaws keeps its queues in package-level variables, so one process serves one local stack:
// that is why it runs as its own process rather than inside the emulator.
//
// It listens on 127.0.0.1 on a free port, prints "listening <host:port>" as its first line of
// standard output, and exits when its standard input reaches end of file (when the parent dies
// or closes the pipe), so it never outlives the emulator.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/models"
	log "github.com/sirupsen/logrus"
)

// Defaults of SQS for a queue created without attributes.
const (
	defaultVisibilityTimeout  = 30
	defaultMaximumMessageSize = 262144
	defaultRetention          = 345600
)

func main() {
	region := flag.String("region", "us-east-1", "region of the queue ARNs")
	account := flag.String("account", "000000000000", "account id of the queue URLs and ARNs")
	partition := flag.String("partition", "aws", "partition of the queue ARNs")
	flag.Parse()
	if err := run(*region, *account, *partition); err != nil {
		fmt.Fprintln(os.Stderr, "goawsd:", err)
		os.Exit(1)
	}
}

func run(region, account, partition string) error {
	log.SetOutput(os.Stderr)
	log.SetLevel(log.WarnLevel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// goaws builds queue URLs as http://<Host>:<Port>/<AccountID>/<name> when Region is empty
	// (with a Region it prefixes the host with it, which does not resolve); ARNs are fixed
	// per queue on CreateQueue (fix.go).
	models.CurrentEnvironment = models.Environment{
		Host:      "127.0.0.1",
		Port:      port,
		AccountID: account,
		QueueAttributeDefaults: models.EnvQueueAttributes{
			VisibilityTimeout:      defaultVisibilityTimeout,
			MaximumMessageSize:     defaultMaximumMessageSize,
			MessageRetentionPeriod: defaultRetention,
		},
	}
	quit := make(chan bool)
	go gosqs.PeriodicTasks(100*time.Millisecond, quit)
	srv := &http.Server{Handler: newHandler(region, account, partition), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		// Exit once the parent closes our stdin (or dies).
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		os.Exit(0)
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	return srv.Serve(ln)
}
