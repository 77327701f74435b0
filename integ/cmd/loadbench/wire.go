package main

import "time"

// The parent (the emulator) and the child (the load clients) talk over the child's standard
// input and output, one JSON object per line: the parent sends commands, the child answers
// each with one event.

// Operations of commands and events.
const (
	opWarmup    = "warmup"    // command: connect, join and close a few connections (warms the functions)
	opWarm      = "warm"      // event: the warm-up connections are closed
	opConnect   = "connect"   // command: open the connections and join the rooms
	opConnected = "connected" // event: the connections are open and joined
	opClose     = "close"     // command: close the first Count connections; event: they are closed
	opReopen    = "reopen"    // command: reopen and rejoin the closed ones; event: they are open
	opStep      = "step"      // command: run one step; event: its result
	opSending   = "sending"   // event: the step's clock started (first sends are due)
	opSent      = "sent"      // event: the step's send window ended
	opExit      = "exit"      // command: close every connection and exit
	opError     = "error"     // event: the command failed
)

// command is what the parent asks of the client process.
type command struct {
	Op string `json:"op"`
	// Connect is set for opConnect and opWarmup.
	Connect *connectSpec `json:"connect,omitempty"`
	// Step is set for opStep.
	Step *stepSpec `json:"step,omitempty"`
	// Count is set for opClose.
	Count int `json:"count,omitempty"`
}

// connectSpec says which connections to open.
type connectSpec struct {
	// URL is the stage's ws:// URL.
	URL string `json:"url"`
	// Tokens holds one token per connection (one user each).
	Tokens []string `json:"tokens"`
	// Rooms is how many rooms there are; connection i joins room i mod Rooms.
	Rooms int `json:"rooms"`
	// RoomPrefix names the rooms: <prefix><index>.
	RoomPrefix string `json:"roomPrefix"`
	// Concurrency bounds the handshakes (and joins) in flight.
	Concurrency int `json:"concurrency"`
	// Ramp is how many handshakes may start per second.
	Ramp float64 `json:"ramp"`
	// Timeout bounds one handshake or join.
	Timeout time.Duration `json:"timeout"`
}

// stepSpec is one measured load step.
type stepSpec struct {
	// ID numbers the step; message texts carry it.
	ID int `json:"id"`
	// Name labels the step in the tables.
	Name string `json:"name"`
	// Senders is how many connections send (the first ones); every connection receives.
	Senders int `json:"senders"`
	// Rate is the messages per second of each sender.
	Rate float64 `json:"rate"`
	// Duration is the send window.
	Duration time.Duration `json:"duration"`
	// Drain is how long after the send window replies and deliveries are still counted.
	Drain time.Duration `json:"drain"`
	// Settle bounds the wait for the previous step's replies before the clock starts.
	Settle time.Duration `json:"settle"`
}

// event is what the client process reports.
type event struct {
	Op        string         `json:"op"`
	Churn     *churnResult   `json:"churn,omitempty"`
	Connected *connectResult `json:"connected,omitempty"`
	Step      *stepResult    `json:"step,omitempty"`
	Error     string         `json:"error,omitempty"`
}

// connectResult describes the connect and join phases.
type connectResult struct {
	// Open counts the connections that are open and joined.
	Open int `json:"open"`
	// Connect times the handshakes, from the first to the last answer.
	Connect phaseTiming `json:"connect"`
	// Join times the joinrooms, from the first to the last joined.
	Join phaseTiming `json:"join"`
	// Errors counts failed handshakes and joins by cause.
	Errors map[string]int `json:"errors,omitempty"`
}

// phaseTiming is how long a phase took and the latencies of its operations that succeeded.
type phaseTiming struct {
	Wall    time.Duration `json:"wall"`
	Latency quantiles     `json:"latency"`
}

// stepResult is the client side of one step.
type stepResult struct {
	Spec stepSpec `json:"spec"`
	// SettleWait is how long the step waited for the previous step's replies, and
	// SettleLeft how many were still missing when it started anyway.
	SettleWait time.Duration `json:"settleWait"`
	SettleLeft int           `json:"settleLeft"`
	// SendWindow is the measured send window.
	SendWindow time.Duration `json:"sendWindow"`
	// Sent counts the messages written; SendLagMax is the worst delay of a send behind its
	// schedule (the client's writes blocked: backpressure).
	Sent       int           `json:"sent"`
	SendLagMax time.Duration `json:"sendLagMax"`
	// Acks counts the acks of this step's messages within the drain.
	Acks   int       `json:"acks"`
	AckLat quantiles `json:"ackLat"`
	// Expected is the deliveries owed: every other member of the sender's room, once per
	// message sent. Delivered counts first receipts within the drain, Late first receipts
	// after it (before the result was taken), Duplicates receipts beyond the first.
	Expected   int       `json:"expected"`
	Delivered  int       `json:"delivered"`
	Late       int       `json:"late"`
	Duplicates int       `json:"duplicates"`
	Misrouted  int       `json:"misrouted"`
	Latency    quantiles `json:"latency"`
	// Stray counts receipts of earlier steps' messages during this step, StaleReplies
	// answers to earlier steps' messages.
	Stray        int `json:"stray"`
	StaleReplies int `json:"staleReplies"`
	// Errors counts error replies by code, API Gateway's frames by message, and connection
	// ends by close code.
	Errors map[string]int `json:"errors,omitempty"`
}

// churnResult describes the closing or reopening of some connections.
type churnResult struct {
	Count  int            `json:"count"`
	Wall   time.Duration  `json:"wall"`
	Errors map[string]int `json:"errors,omitempty"`
}

// quantiles summarizes a latency sample, in milliseconds.
type quantiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}
