// Command cost prints the monthly AWS bill of a chat workload on this construct's design, next
// to the same workload on AWS's sample chat design (aws-samples/simple-websockets-chat-app),
// at published us-east-1 prices, with every assumption it makes.
//
//	go run ./bench/cost                       # 1,000 users, rooms of 20, 1 message/min, 8 h/day, 30 days
//	go run ./bench/cost -users 10000 -room-size 50 -chat-memory 512
//	go run ./bench/cost -publish-per-minute 10 -large-room-members 100000 -large-room-per-minute 1
//
// The workload: -users users, each online -hours a day for -days days, in rooms of
// -room-size, each sending -per-minute messages a minute while online. API Gateway closes a
// connection after 2 hours, so each user connects ceil(hours ÷ 2 h) times a day; after each
// connect the client joins its room again.
//
// This design, per message: the client's sendmessage (1 message in), the ack (1 message
// out), one @connections POST per other member of the room (room size − 1 messages out);
// one chat invocation; DynamoDB: GetItem connection, GetItem + UpdateItem rate bucket,
// GetItem membership, GetItem of the room's head (all strongly consistent), then the
// sequenced append: one TransactWriteItems of the head's update and the message's put (2 WRU
// per KB of each item, as AWS charges a transaction), with a clientMessageId (the fraction
// -client-message-id of messages) a third item, the clientMessageId record, and after the
// fan-out an UpdateItem of that record (RecordDelivery); then the Query of the room's byRoom
// index partition (eventually consistent). Before sequencing a message was one PutItem (1
// WRU). Retries of an append that lost the race for a number (one more head read and
// transaction each; see BENCHMARKS.md, "Sequencing and resume") are not modeled: at rooms of
// 20 sending 1 message a minute each, two sends in one room rarely overlap. Per connection:
// the authorizer and connect invocations and a PutItem; joinroom (a chat invocation, a
// membership written with its index entry, the user's presence record updated, the room's
// head read, presence to the room); $disconnect (two strongly consistent Queries, a
// BatchWriteItem deleting connection, bucket and membership, the presence record updated,
// presence "left" to the room). A joinroom with since replays what the client missed
// (strongly consistent Queries, resume frames of up to 128 KB, each metered in 32 KB
// increments); the workload has no gaps to replay, so it is not modeled.
//
// The publish path: the publish queue always exists, so the event source's idle long polls
// (-idle-pollers) are billed every month. -publish-per-minute adds publications (an SQS
// message each, to a room of -room-size: SendMessage, ReceiveMessage and DeleteMessageBatch,
// a publish invocation, the append and the room's read, a POST per member).
// -large-room-members above -large-room-threshold adds a large room receiving
// -large-room-per-minute messages: the sender's sendmessage reads threshold/8+1 members
// of each of the 8 shards (the probe) and queues 8 shard jobs in one SendMessageBatch; each
// shard is posted by jobs of up to 2,000 members (contract.ShardJobMembers), each job a
// publish invocation reading pages of 100 index entries and queueing its shard's rest as a
// continuation. Every room read is 8 Queries, one a shard, each rounded up on its own.
//
// The sample design (sendmessage/app.js): every message Scans the whole connections table
// and posts to every connection, the sender's included; no route response; onconnect and
// ondisconnect put and delete one item. It has no rooms: with everyone online at once, a
// message goes to every user.
//
// Lambda durations are modeled, not guessed: CPU ms (measured natively by integ/cmd/loadbench) ×
// 1,769 ÷ memory MB (Lambda's CPU share below one vCPU) plus the network wait (assumed,
// per DynamoDB call and per wave of @connections POSTs). Defaults of the measured inputs are
// the figures of BENCHMARKS.md.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/chatstack/websocketchatapi/internal/contract"
)

// Prices in us-east-1 as AWS publishes them, assumed current on priceDate.
const (
	priceDate = "2025-01-01 (DynamoDB on-demand as cut on 2024-11-01)"

	// API Gateway WebSocket APIs.
	apigwPerMillionMessages     = 1.00 // first apigwTierMessages messages a month
	apigwPerMillionMessagesOver = 0.80 // beyond
	apigwTierMessages           = 1e9
	apigwMessageIncrement       = 32 * 1024 // bytes: a message is metered in 32 KB increments
	apigwPerMillionConnMinutes  = 0.25

	// Lambda, arm64.
	lambdaPerGBSecond        = 0.0000133334
	lambdaPerMillionRequests = 0.20
	lambdaFullVCPUMB         = 1769 // memory at which a function gets one vCPU

	// DynamoDB on-demand, Standard table class.
	ddbPerMillionWRU     = 0.625
	ddbPerMillionRRU     = 0.125
	ddbStoragePerGBMonth = 0.25
	ddbPITRPerGBMonth    = 0.20
	ddbItemOverhead      = 100 // bytes of storage overhead per item (and per index entry)

	// CloudWatch Logs, Standard class.
	logsPerGBIngested = 0.50

	// SQS, standard queue: every API request (SendMessage, SendMessageBatch, ReceiveMessage,
	// DeleteMessageBatch, long polls that return nothing) counts, per 64 KB of its payload.
	sqsPerMillionRequests = 0.40
	sqsRequestChunk       = 64 * 1024
)

// Sizes DynamoDB rounds to.
const (
	readUnitBytes  = 4096
	writeUnitBytes = 1024
)

// config holds the workload, the measured inputs and the assumptions.
type config struct {
	// Workload.
	users, roomSize         int
	perMinute, hours        float64
	days                    int
	connectionCapHours      float64
	textBytes               int
	includeLogs, includeStg bool

	// The publish path (the publish queue and its function).
	publishPerMinute float64 // publications to a room of roomSize, app-wide, per minute online
	largeMembers     int     // members of the large room (0: none)
	largePerMinute   float64 // messages a minute sent to the large room
	threshold        int     // LargeRoomThreshold
	idlePollers      int     // long polls the event source keeps open

	// Memory sizes (the construct's defaults).
	chatMB, handlerMB int

	// Measured by integ/cmd/loadbench, natively (CPU ms per invocation on one x86-64 core).
	chatBaseCPU, chatPostCPU       float64 // sendmessage: base + per POST
	joinCPU                        float64 // joinroom, excluding its presence POSTs
	authorizerCPU, connectCPU      float64
	disconnectCPU                  float64 // presence POSTs included
	connItem, rateItem, memberItem int     // item sizes, bytes
	indexItem, msgItemOverText     int     // an index entry; a message item less its text
	headItem, recordItem           int     // a room's head; a clientMessageId record (with its counts)
	presenceItem                   int     // a user's presence record in a room
	clientMessageIDShare           float64 // fraction of messages sent with a clientMessageId
	chatLogBytes, otherLogBytes    int     // log bytes per invocation (incl. START/END/REPORT)

	// Assumed network waits.
	ddbCallMs, postWaveMs float64
	fanoutConcurrency     int

	// The sample design.
	sampleItemBytes               int
	sampleSendMs, sampleConnectMs float64
	sampleMB                      int
	sampleLogBytes                int
}

func parseFlags() config {
	var c config
	flag.IntVar(&c.users, "users", 1000, "users")
	flag.IntVar(&c.roomSize, "room-size", 20, "members per room")
	flag.Float64Var(&c.perMinute, "per-minute", 1, "messages each user sends per minute online")
	flag.Float64Var(&c.hours, "hours", 8, "hours online per day")
	flag.IntVar(&c.days, "days", 30, "days per month")
	flag.Float64Var(&c.connectionCapHours, "connection-cap", contract.MaxConnectionDuration.Hours(), "hours after which API Gateway closes a connection (the client reconnects)")
	flag.IntVar(&c.textBytes, "text-bytes", 100, "bytes of text per message")
	flag.BoolVar(&c.includeLogs, "logs", true, "include CloudWatch Logs ingestion (Lambda output, API Gateway access logs)")
	flag.BoolVar(&c.includeStg, "storage", true, "include DynamoDB storage and point-in-time recovery of the history")
	flag.IntVar(&c.chatMB, "chat-memory", 512, "chat function memory, MB (the construct's default)")
	flag.IntVar(&c.handlerMB, "handler-memory", 128, "authorizer, connect, disconnect memory, MB")

	flag.Float64Var(&c.chatBaseCPU, "chat-base-cpu-ms", 3.7, "measured before sequencing: sendmessage CPU ms without its POSTs (6 DynamoDB calls, validation, JSON)")
	flag.Float64Var(&c.chatPostCPU, "post-cpu-ms", 0.19, "measured: CPU ms per @connections POST (SigV4, HTTP, JSON)")
	flag.Float64Var(&c.joinCPU, "join-cpu-ms", 2.8, "measured: joinroom CPU ms without its presence POSTs")
	flag.Float64Var(&c.authorizerCPU, "authorizer-cpu-ms", 0.53, "measured: authorizer CPU ms per connect (JWT verification, JWKS cached)")
	flag.Float64Var(&c.connectCPU, "connect-cpu-ms", 0.75, "measured: connect CPU ms (one PutItem)")
	flag.Float64Var(&c.disconnectCPU, "disconnect-cpu-ms", 2.6, "measured: disconnect CPU ms, presence POSTs included (24 members)")
	flag.IntVar(&c.connItem, "conn-item-bytes", 97, "measured: connection item size")
	flag.IntVar(&c.rateItem, "rate-item-bytes", 69, "measured: rate bucket item size")
	flag.IntVar(&c.memberItem, "member-item-bytes", 157, "measured: membership item size")
	flag.IntVar(&c.indexItem, "index-item-bytes", 156, "measured: byRoom index entry size")
	flag.IntVar(&c.msgItemOverText, "message-item-overhead-bytes", 178, "measured (BenchmarkAppend, AWS's size rules, 36-character user id): message item size less its text")
	flag.IntVar(&c.headItem, "head-item-bytes", 24, "measured (BenchmarkAppend): a room's head item")
	flag.IntVar(&c.recordItem, "record-item-bytes", 160, "measured (BenchmarkAppend): clientMessageId record, 132 B, plus its delivery counts")
	flag.IntVar(&c.presenceItem, "presence-item-bytes", 120, "assumed: a user's presence record (keys, a set of one or two connection ids, expiry)")
	flag.Float64Var(&c.clientMessageIDShare, "client-message-id", 1, "fraction of messages sent with a clientMessageId (the README's examples and integ/cmd/loadbench send one with every message)")
	flag.IntVar(&c.chatLogBytes, "chat-log-bytes", 1561, "measured: chat function log bytes per invocation (request log, fan-out summary, EMF metrics, START/END/REPORT)")
	flag.IntVar(&c.otherLogBytes, "handler-log-bytes", 590, "measured: log bytes per invocation of authorizer (503), connect (549), disconnect (714): their mean")

	flag.Float64Var(&c.publishPerMinute, "publish-per-minute", 0, "publications (SQS messages to the publish queue, each a chat message to one room of -room-size) per minute, app-wide, while users are online")
	flag.IntVar(&c.largeMembers, "large-room-members", 0, "members of one large room (above -large-room-threshold: its messages are fanned out by shard jobs through the publish queue); 0: none")
	flag.Float64Var(&c.largePerMinute, "large-room-per-minute", 1, "messages sent to the large room per minute while users are online")
	flag.IntVar(&c.threshold, "large-room-threshold", contract.DefaultLargeRoomThreshold, "the construct's LargeRoomThreshold")
	flag.IntVar(&c.idlePollers, "idle-pollers", 5, "assumed: long polls (20 s each) the publish queue's event source keeps open all month when idle (AWS: 5 concurrent batches when messages arrive, down to 2 when traffic is low)")

	flag.Float64Var(&c.ddbCallMs, "ddb-call-ms", 5, "assumed: DynamoDB round trip in-region, ms")
	flag.Float64Var(&c.postWaveMs, "post-wave-ms", 20, "assumed: one wave of concurrent @connections POSTs, ms")
	flag.IntVar(&c.fanoutConcurrency, "fanout-concurrency", contract.DefaultFanoutConcurrency, "POSTs in flight per fan-out (the construct's FanoutConcurrency)")

	flag.IntVar(&c.sampleItemBytes, "sample-item-bytes", 100, "sample: connections table item size")
	flag.Float64Var(&c.sampleSendMs, "sample-send-ms", 2000, "sample: sendmessage duration, ms (Scan + a POST to every connection from Node.js)")
	flag.Float64Var(&c.sampleConnectMs, "sample-connect-ms", 30, "sample: onconnect / ondisconnect duration, ms")
	flag.IntVar(&c.sampleMB, "sample-memory", 256, "sample: memory of its functions, MB (its template)")
	flag.IntVar(&c.sampleLogBytes, "sample-log-bytes", 300, "sample: log bytes per invocation (START/END/REPORT only)")
	flag.Parse()
	return c
}

func main() {
	c := parseFlags()
	if c.users < 2 || c.roomSize < 2 || c.roomSize > c.users || c.hours <= 0 || c.days < 1 || c.perMinute <= 0 || c.clientMessageIDShare < 0 || c.clientMessageIDShare > 1 {
		fmt.Fprintln(os.Stderr, "cost: want users ≥ room size ≥ 2, hours > 0, days ≥ 1, per-minute > 0, 0 ≤ client-message-id ≤ 1")
		os.Exit(2)
	}
	report(c)
}

// usage is what one design consumes in a month.
type usage struct {
	apigwMessages float64
	connMinutes   float64
	lambda        []fnUse
	rru, wru      float64
	storedGB      float64
	sqsRequests   float64
	logBytes      float64
}

// fnUse is one function's invocations and duration.
type fnUse struct {
	name        string
	invocations float64
	durationMs  float64
	memoryMB    int
}

// gbSeconds returns the function's GB-seconds (durations billed per ms).
func (f fnUse) gbSeconds() float64 {
	return f.invocations * math.Ceil(f.durationMs) / 1000 * float64(f.memoryMB) / 1024
}

// line is one line of a bill.
type line struct {
	item     string
	quantity string
	cost     float64
}

// bill prices a month's usage.
func bill(u usage, includeLogs, includeStg bool) []line {
	var out []line
	msgs := u.apigwMessages
	msgCost := math.Min(msgs, apigwTierMessages)/1e6*apigwPerMillionMessages + math.Max(msgs-apigwTierMessages, 0)/1e6*apigwPerMillionMessagesOver
	out = append(out, line{"API Gateway messages", fmt.Sprintf("%s messages", human(msgs)), msgCost})
	out = append(out, line{"API Gateway connection minutes", fmt.Sprintf("%s minutes", human(u.connMinutes)), u.connMinutes / 1e6 * apigwPerMillionConnMinutes})
	var req, gbs float64
	for _, f := range u.lambda {
		req += f.invocations
		gbs += f.gbSeconds()
	}
	out = append(out, line{"Lambda requests", fmt.Sprintf("%s requests", human(req)), req / 1e6 * lambdaPerMillionRequests})
	out = append(out, line{"Lambda duration (arm64)", fmt.Sprintf("%s GB-s", human(gbs)), gbs * lambdaPerGBSecond})
	out = append(out, line{"SQS requests (publish queue)", fmt.Sprintf("%s requests", human(u.sqsRequests)), u.sqsRequests / 1e6 * sqsPerMillionRequests})
	out = append(out, line{"DynamoDB reads (on-demand)", fmt.Sprintf("%s RRU", human(u.rru)), u.rru / 1e6 * ddbPerMillionRRU})
	out = append(out, line{"DynamoDB writes (on-demand)", fmt.Sprintf("%s WRU", human(u.wru)), u.wru / 1e6 * ddbPerMillionWRU})
	if includeStg {
		out = append(out, line{"DynamoDB storage + PITR", fmt.Sprintf("%.2f GB", u.storedGB), u.storedGB * (ddbStoragePerGBMonth + ddbPITRPerGBMonth)})
	}
	if includeLogs {
		gb := u.logBytes / 1e9
		out = append(out, line{"CloudWatch Logs ingestion", fmt.Sprintf("%.1f GB", gb), gb * logsPerGBIngested})
	}
	return out
}

// total sums a bill.
func total(ls []line) float64 {
	t := 0.0
	for _, l := range ls {
		t += l.cost
	}
	return t
}

// lambdaMs models an invocation's duration: its CPU at the memory's CPU share plus its
// network wait.
func lambdaMs(cpuMs float64, memoryMB int, waitMs float64) float64 {
	share := math.Min(float64(memoryMB)/lambdaFullVCPUMB, 1)
	return cpuMs/share + waitMs
}

// metered returns how many messages API Gateway meters for a payload of n bytes.
func metered(n int) float64 {
	return math.Max(1, math.Ceil(float64(n)/apigwMessageIncrement))
}

// readUnits returns the RRU of reading n bytes, strongly or eventually consistent.
func readUnits(n int, strong bool) float64 {
	u := math.Ceil(float64(max(n, 1)) / readUnitBytes)
	if !strong {
		u /= 2
	}
	return u
}

// writeUnits returns the WRU of writing an item of n bytes.
func writeUnits(n int) float64 {
	return math.Ceil(float64(max(n, 1)) / writeUnitBytes)
}

// transactWriteUnits returns the WRU of a TransactWriteItems of items of these sizes: AWS
// charges 2 WRU per KB of each item (a prepare and a commit). DynamoDB Local reports a flat
// 4 for any transaction, so this is AWS's documented figure, not a measured one.
func transactWriteUnits(sizes ...int) float64 {
	u := 0.0
	for _, n := range sizes {
		u += 2 * writeUnits(n)
	}
	return u
}

// roomReadUnits returns the RRU of reading a room of members from the byRoom index: one
// eventually consistent Query per shard (contract.RoomShards, read in parallel), each summing
// its entries' sizes before rounding up to 4 KB, with at most limit entries a shard (0: no
// limit; pages beyond one are not split: a 1 MB page holds 6,000 entries); a Query that
// finds nothing still costs half a unit.
func roomReadUnits(c config, members, limit int) float64 {
	per := (members + contract.RoomShards - 1) / contract.RoomShards
	if limit > 0 {
		per = min(per, limit)
	}
	return contract.RoomShards * readUnits(per*c.indexItem, false)
}

// probeLimit is how many members a broadcast first reads of each shard to tell a large room
// from a small one (chat.Service.broadcast): threshold/RoomShards+1.
func probeLimit(c config) int { return c.threshold/contract.RoomShards + 1 }

// jobPageSize is how many index entries a shard job reads per Query (chat.DefaultFanoutPageSize).
const jobPageSize = 100

// sendCapacity returns a sendmessage's DynamoDB reads and writes, its calls, and a note on
// its writes: 4 strongly consistent GetItems (connection, bucket, membership, the room's
// head), the room's index Query (eventually consistent, sizes summed before rounding), the
// bucket's UpdateItem, the append transaction (head + message, + the record with a
// clientMessageId) and, with a clientMessageId, RecordDelivery's UpdateItem of the record.
func sendCapacity(c config) (rru, wru, calls float64, note string) {
	msgItem := c.msgItemOverText + c.textBytes
	rru = readUnits(c.connItem, true) + readUnits(c.rateItem, true) + readUnits(c.memberItem, true) + readUnits(c.headItem, true) +
		roomReadUnits(c, c.roomSize, probeLimit(c))
	plain := transactWriteUnits(c.headItem, msgItem)
	once := transactWriteUnits(c.headItem, msgItem, c.recordItem) + writeUnits(c.recordItem)
	share := c.clientMessageIDShare
	wru = writeUnits(c.rateItem) + (1-share)*plain + share*once
	calls = 7 + share
	note = fmt.Sprintf("writes: bucket %.0f WRU + the append, a transaction: %.0f WRU (head %d B and message %d B, 2 each; DynamoDB Local reports 4 for any transaction) or, with a clientMessageId (%.0f%% of messages), %.0f WRU (the record, %d B, as a third item: +2, and RecordDelivery's update of it: +%.0f); before sequencing the message was one PutItem, %.0f WRU",
		writeUnits(c.rateItem), plain, c.headItem, msgItem, 100*share, once, c.recordItem, writeUnits(c.recordItem), writeUnits(msgItem))
	return rru, wru, calls, note
}

// workload is the month's volume.
type workload struct {
	messages, connections, connMinutes float64
	perDayConnections                  float64
}

func volume(c config) workload {
	perDay := math.Ceil(c.hours / c.connectionCapHours)
	return workload{
		messages:          float64(c.users) * c.perMinute * 60 * c.hours * float64(c.days),
		connections:       float64(c.users) * perDay * float64(c.days),
		connMinutes:       float64(c.users) * 60 * c.hours * float64(c.days),
		perDayConnections: perDay,
	}
}

// frame sizes of this design, for the 32 KB metering (all far below it by default).
func (c config) messageFrameBytes() int { return 200 + c.textBytes }

// accessLogLine returns a representative access log line of the construct's format.
func accessLogLine() string {
	b, _ := json.Marshal(map[string]string{
		"requestId":          "Ab1CdEfGhIjKlMn=",
		"extendedRequestId":  "Ab1CdEfGhIjKlMn=",
		"requestTime":        "21/Nov/2025:19:30:00 +0000",
		"connectionId":       "Ab1CdEfGhIjKlMn=",
		"eventType":          "MESSAGE",
		"routeKey":           "sendmessage",
		"messageId":          "Ab1CdEfGhIjKlMn=",
		"status":             "200",
		"error":              "-",
		"errorType":          "-",
		"integrationError":   "-",
		"integrationStatus":  "200",
		"integrationLatency": "95",
		"authorizerError":    "-",
		"principalId":        "3f2a9c1e-7b4d-4e8a-9f10-2c3d4e5f6a7b",
		"sourceIp":           "203.0.113.10",
		"userAgent":          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	})
	return string(b)
}

// ours returns this design's month.
func ours(c config, w workload) (usage, []string) {
	others := float64(c.roomSize - 1)
	waves := math.Ceil(others / float64(c.fanoutConcurrency))
	var u usage
	var notes []string

	// Messages: in, ack, one POST per other member (every frame < 32 KB).
	perMsg := metered(c.messageFrameBytes()) * (2 + others)
	// Per connection: joinroom in + joined out + presence "joined" to the others; presence
	// "left" at $disconnect. $connect and $disconnect themselves are not metered as messages.
	perConn := 2 + others + others
	u.apigwMessages = w.messages*perMsg + w.connections*perConn
	u.connMinutes = w.connMinutes

	sendCPU := c.chatBaseCPU + others*c.chatPostCPU
	joinCPU := c.joinCPU + others*c.chatPostCPU
	discCPU := c.disconnectCPU
	rruMsg, wruMsg, sendCalls, writesNote := sendCapacity(c)
	u.lambda = []fnUse{
		{"chat: sendmessage", w.messages, lambdaMs(sendCPU, c.chatMB, sendCalls*c.ddbCallMs+waves*c.postWaveMs), c.chatMB},
		{"chat: joinroom", w.connections, lambdaMs(joinCPU, c.chatMB, 8*c.ddbCallMs+waves*c.postWaveMs), c.chatMB},
		{"authorizer", w.connections, lambdaMs(c.authorizerCPU, c.handlerMB, 0), c.handlerMB},
		{"connect", w.connections, lambdaMs(c.connectCPU, c.handlerMB, c.ddbCallMs), c.handlerMB},
		{"disconnect", w.connections, lambdaMs(discCPU, c.handlerMB, 5*c.ddbCallMs+waves*c.postWaveMs), c.handlerMB},
	}

	// Per connection: connect PutItem; joinroom GetItem ×3, UpdateItem bucket, PutItem
	// membership (+ its index entry), UpdateItem presence, GetItem head (strongly
	// consistent), Query; disconnect: Query memberships and Query partition (strongly
	// consistent; connection + bucket + membership), BatchWriteItem of 3 deletes (+ the index
	// entry), UpdateItem presence, presence Query.
	msgItem := c.msgItemOverText + c.textBytes
	partition := c.connItem + c.rateItem + c.memberItem
	rruConn := (readUnits(c.connItem, true) + readUnits(c.rateItem, true) + readUnits(c.memberItem, true) + readUnits(c.headItem, true) + roomReadUnits(c, c.roomSize, probeLimit(c))) +
		2*readUnits(partition, true) + roomReadUnits(c, c.roomSize, probeLimit(c))
	wruConn := writeUnits(c.connItem) + (writeUnits(c.rateItem) + 2*writeUnits(c.memberItem) + writeUnits(c.presenceItem)) +
		(writeUnits(c.connItem) + writeUnits(c.rateItem) + 2*writeUnits(c.memberItem) + writeUnits(c.presenceItem))
	u.rru = w.messages*rruMsg + w.connections*rruConn
	u.wru = w.messages*wruMsg + w.connections*wruConn

	pubNotes := publishPath(c, w, &u)

	// History: HistoryRetention (30 days) of messages stays stored.
	u.storedGB = w.messages * float64(msgItem+ddbItemOverhead) / 1e9

	access := float64(len(accessLogLine()) + 1)
	lambdaLogs := (w.messages+w.connections)*float64(c.chatLogBytes) + 3*w.connections*float64(c.otherLogBytes)
	accessLogs := (w.messages + 3*w.connections) * access // sendmessage, joinroom, connect, disconnect
	u.logBytes = lambdaLogs + accessLogs

	notes = append(notes,
		fmt.Sprintf("per message: %.0f API Gateway messages (1 in, 1 ack, %.0f POSTs); %.1f RRU + %.0f WRU; chat %.0f ms at %d MB (%.2f ms CPU × %d ÷ %d + %.0f ms wait: %.3g DynamoDB calls × %.0f ms, a transaction counted as one call, + %.0f wave(s) of POSTs × %.0f ms)",
			perMsg, others, rruMsg, wruMsg, u.lambda[0].durationMs, c.chatMB, sendCPU, lambdaFullVCPUMB, c.chatMB, sendCalls*c.ddbCallMs+waves*c.postWaveMs, sendCalls, c.ddbCallMs, waves, c.postWaveMs),
		"per message, "+writesNote,
		fmt.Sprintf("per message, reads: 4 strongly consistent GetItems (connection, bucket, membership, the room's head: %.0f RRU each) + the index Query; the head read is new with sequencing (+1 RRU); the CPU figure (%.2f ms base) was measured before sequencing and idempotent sends, with 6 DynamoDB calls (now %.3g)", readUnits(c.headItem, true), c.chatBaseCPU, sendCalls),
		fmt.Sprintf("per connection (%.0f a day per user: a %.0f h day, connections capped at %.0f h): %.0f messages (joinroom in/out, presence joined and left to %.0f members); authorizer, connect, chat joinroom, disconnect; %.1f RRU + %.0f WRU (joinroom's head read and the presence record's two updates included)",
			w.perDayConnections, c.hours, c.connectionCapHours, perConn, others, rruConn, wruConn),
		fmt.Sprintf("the room's index is read with %d Queries, one a shard, in parallel (counted as one call): %d members × %d B in %d shards, %.1f RRU eventually consistent (each Query rounds up on its own: half a unit at least)", contract.RoomShards, c.roomSize, c.indexItem, contract.RoomShards, roomReadUnits(c, c.roomSize, probeLimit(c))),
		fmt.Sprintf("logs: %d B per chat invocation, %d B per other invocation (measured), %.0f B per access log line (the construct's format, representative values)", c.chatLogBytes, c.otherLogBytes, access),
		fmt.Sprintf("storage: %.1f M messages kept 30 days (HistoryRetention) × %d B (+%d B overhead), point-in-time recovery on; clientMessageId records (kept 24 h) and room heads left out (under 1%%)", w.messages/1e6, msgItem, ddbItemOverhead),
	)
	return u, append(notes, pubNotes...)
}

// publishPath adds the publish queue and the publish function to u: the event source's idle
// long polls, publications (-publish-per-minute) and the messages of a large room
// (-large-room-members above the threshold: queued shard jobs). It returns its notes.
func publishPath(c config, w workload, u *usage) []string {
	minutes := 60 * c.hours * float64(c.days)
	month := 60 * 24 * float64(c.days)
	idle := float64(c.idlePollers) * 3 * month // a 20 s long poll each, all month
	u.sqsRequests += idle
	notes := []string{fmt.Sprintf("publish queue, idle: %d long polls of 20 s kept open by the event source all month: %s ReceiveMessage requests (the queue always exists)",
		c.idlePollers, human(idle))}
	waves := func(n int) float64 { return math.Ceil(float64(n) / float64(c.fanoutConcurrency)) }
	msgItem := c.msgItemOverText + c.textBytes
	frame := c.messageFrameBytes()

	if c.publishPerMinute > 0 {
		n := c.publishPerMinute * minutes
		// SendMessage; a batch of one on receive (the rate is low): ReceiveMessage and
		// DeleteMessageBatch.
		chunks := math.Ceil(float64(frame) / sqsRequestChunk)
		u.sqsRequests += n * (chunks + 2)
		u.apigwMessages += n * metered(frame) * float64(c.roomSize)
		// The append (head read, two-item transaction), the room's read, a POST per member.
		u.rru += n * (readUnits(c.headItem, true) + roomReadUnits(c, c.roomSize, probeLimit(c)))
		u.wru += n * transactWriteUnits(c.headItem, msgItem)
		cpu := c.chatBaseCPU + float64(c.roomSize)*c.chatPostCPU
		ms := lambdaMs(cpu, c.chatMB, 3*c.ddbCallMs+waves(c.roomSize)*c.postWaveMs)
		u.lambda = append(u.lambda, fnUse{"publish: publications", n, ms, c.chatMB})
		u.logBytes += n * float64(c.chatLogBytes)
		notes = append(notes, fmt.Sprintf("publications: %s (%.4g a minute online) to rooms of %d: %.0f SQS requests each (SendMessage, then ReceiveMessage and DeleteMessageBatch for a batch of one), %d POSTs, %.1f RRU + %.0f WRU, a publish invocation of %.0f ms",
			human(n), c.publishPerMinute, c.roomSize, chunks+2, c.roomSize, readUnits(c.headItem, true)+roomReadUnits(c, c.roomSize, probeLimit(c)), transactWriteUnits(c.headItem, msgItem), ms))
	}

	if c.largeMembers > c.threshold {
		n := c.largePerMinute * minutes
		perShard := (c.largeMembers + contract.RoomShards - 1) / contract.RoomShards
		jobsPerShard := (perShard + contract.ShardJobMembers - 1) / contract.ShardJobMembers
		jobs := contract.RoomShards * jobsPerShard
		// The sender's side: the sendmessage path as for any room (counted above with the
		// workload's messages only when they are the workload's; these are extra), then the
		// probe (threshold/8+1 entries a shard) and one SendMessageBatch of the 8 jobs.
		sendRRU, sendWRU, sendCalls, _ := sendCapacity(c)
		probe := roomReadUnits(c, c.largeMembers, probeLimit(c))
		sendRRU += probe - roomReadUnits(c, c.roomSize, probeLimit(c))
		u.rru += n * sendRRU
		u.wru += n * sendWRU
		u.apigwMessages += n * metered(frame) * float64(2+c.largeMembers-1)
		sendMs := lambdaMs(c.chatBaseCPU, c.chatMB, (sendCalls+1)*c.ddbCallMs)
		u.lambda = append(u.lambda, fnUse{"chat: sendmessage, large room", n, sendMs, c.chatMB})
		// The queue: the first batch, a SendMessageBatch per continuation, and a receive and
		// a delete per job (batches of one: the worst case).
		sqsPer := 1 + float64(jobs-contract.RoomShards) + 2*float64(jobs)
		u.sqsRequests += n * sqsPer
		// The jobs: pages of jobPageSize entries (2 RRU each at 156 B), POSTs in waves.
		pages := math.Ceil(float64(perShard)/jobPageSize) * contract.RoomShards
		jobRRU := pages * readUnits(jobPageSize*c.indexItem, false)
		u.rru += n * jobRRU
		perJob := min(perShard, contract.ShardJobMembers)
		jobMs := lambdaMs(c.chatBaseCPU+float64(perJob)*c.chatPostCPU, c.chatMB, math.Ceil(float64(perJob)/jobPageSize)*c.ddbCallMs/4+waves(perJob)*c.postWaveMs)
		u.lambda = append(u.lambda, fnUse{"publish: shard jobs", n * float64(jobs), jobMs, c.chatMB})
		u.logBytes += n * float64(jobs+1) * float64(c.chatLogBytes)
		notes = append(notes, fmt.Sprintf("large room: %s messages (%.4g a minute online) to %d members, over the threshold (%d): the sender's ack after the probe (%d Queries of up to %d entries: %.0f RRU) and one SendMessageBatch (chat %.0f ms); %d shard jobs of up to %d members (%d continuations): %.0f SQS requests a message (1 + %d SendMessageBatch + a receive and a delete per job, batches of one); %.0f RRU of job pages (%.0f pages of %d × %d B); %d publish invocations of %.0f ms (%.1f ms CPU × %d ÷ %d + %.0f waves of POSTs × %.0f ms + a quarter of the page reads' %.0f ms: the rest overlaps the posts); %s POSTs",
			human(n), c.largePerMinute, c.largeMembers, c.threshold, contract.RoomShards, probeLimit(c), probe, sendMs, jobs, contract.ShardJobMembers, jobs-contract.RoomShards,
			sqsPer, jobs-contract.RoomShards, jobRRU, pages, jobPageSize, c.indexItem, jobs, jobMs, c.chatBaseCPU+float64(perJob)*c.chatPostCPU, lambdaFullVCPUMB, c.chatMB,
			waves(perJob), c.postWaveMs, math.Ceil(float64(perJob)/jobPageSize)*c.ddbCallMs, human(float64(c.largeMembers-1))))
	} else if c.largeMembers > 0 {
		notes = append(notes, fmt.Sprintf("-large-room-members %d is not above the threshold %d: not modeled", c.largeMembers, c.threshold))
	}
	return notes
}

// sample returns the sample design's month.
func sample(c config, w workload) (usage, []string) {
	var u usage
	conns := float64(c.users) // everyone online at once: the sample posts to all of them
	// Per message: 1 in, a POST to every connection (the sender's included), no route response.
	u.apigwMessages = w.messages * (1 + conns)
	u.connMinutes = w.connMinutes
	u.lambda = []fnUse{
		{"sendmessage", w.messages, c.sampleSendMs, c.sampleMB},
		{"onconnect", w.connections, c.sampleConnectMs, c.sampleMB},
		{"ondisconnect", w.connections, c.sampleConnectMs, c.sampleMB},
	}
	scan := readUnits(c.users*c.sampleItemBytes, false) // a Scan sums the items' sizes
	u.rru = w.messages * scan
	u.wru = w.connections * 2 * writeUnits(c.sampleItemBytes)
	u.storedGB = conns * float64(c.sampleItemBytes+ddbItemOverhead) / 1e9
	u.logBytes = (w.messages + 2*w.connections) * float64(c.sampleLogBytes)
	notes := []string{
		fmt.Sprintf("per message: %.0f API Gateway messages (1 in, a POST to each of the %d connections, the sender's included; no ack); a Scan of %d items × %d B = %d B: %.1f RRU eventually consistent (ProjectionExpression does not reduce it)",
			1+conns, c.users, c.users, c.sampleItemBytes, c.users*c.sampleItemBytes, scan),
		fmt.Sprintf("sendmessage %.0f ms at %d MB (assumed: %d signed HTTPS POSTs from Node.js at 0.145 vCPU), onconnect/ondisconnect %.0f ms; priced at the arm64 rate like this design (the sample deploys x86_64, 25%% more per GB-s)",
			c.sampleSendMs, c.sampleMB, c.users, c.sampleConnectMs),
		"no authorizer, no history, no rate limit, no rooms; no access logs (its stage has none)",
	}
	return u, notes
}

// report prints the prices, the volume, both bills and the assumptions.
func report(c config) {
	w := volume(c)
	fmt.Printf("Prices: us-east-1, as published; assumed current on %s.\n", priceDate)
	fmt.Printf("  API Gateway WebSocket: $%.2f per million messages (first billion a month), $%.2f beyond; messages metered in 32 KB increments; $%.2f per million connection minutes\n",
		apigwPerMillionMessages, apigwPerMillionMessagesOver, apigwPerMillionConnMinutes)
	fmt.Printf("  Lambda arm64: $%.10f per GB-s, $%.2f per million requests (1 vCPU at %d MB)\n", lambdaPerGBSecond, lambdaPerMillionRequests, lambdaFullVCPUMB)
	fmt.Printf("  DynamoDB on-demand: $%.3f per million WRU, $%.3f per million RRU; storage $%.2f and PITR $%.2f per GB-month\n",
		ddbPerMillionWRU, ddbPerMillionRRU, ddbStoragePerGBMonth, ddbPITRPerGBMonth)
	fmt.Printf("  CloudWatch Logs: $%.2f per GB ingested (included: -logs=%v)\n", logsPerGBIngested, c.includeLogs)
	fmt.Println("  No free tier, no data transfer (messages to clients are priced per message; egress to the internet is extra on both designs alike).")
	fmt.Printf("\nWorkload: %d users in rooms of %d, %.4g message(s) per minute each, %.4g h a day, %d days: %s messages, %s connections (%.0f a day per user), %s connection minutes.\n",
		c.users, c.roomSize, c.perMinute, c.hours, c.days, human(w.messages), human(w.connections), w.perDayConnections, human(w.connMinutes))

	ou, onotes := ours(c, w)
	su, snotes := sample(c, w)
	ob, sb := bill(ou, c.includeLogs, c.includeStg), bill(su, c.includeLogs, c.includeStg)

	fmt.Println()
	rows := [][]string{{"line item", "this design: quantity", "this design", "sample design: quantity", "sample design"}}
	for i := range ob {
		rows = append(rows, []string{ob[i].item, ob[i].quantity, money(ob[i].cost), sb[i].quantity, money(sb[i].cost)})
	}
	rows = append(rows, []string{"**total per month**", "", "**" + money(total(ob)) + "**", "", "**" + money(total(sb)) + "**"})
	rows = append(rows, []string{"per 1,000 messages", "", fmt.Sprintf("$%.4f", total(ob)/w.messages*1000), "", fmt.Sprintf("$%.4f", total(sb)/w.messages*1000)})
	printTable(rows)

	fmt.Println("\nThis design's Lambda functions:")
	frows := [][]string{{"function", "invocations", "duration (model)", "memory", "GB-s", "cost (duration + requests)"}}
	for _, f := range ou.lambda {
		frows = append(frows, []string{f.name, human(f.invocations), fmt.Sprintf("%.0f ms", f.durationMs), fmt.Sprintf("%d MB", f.memoryMB),
			human(f.gbSeconds()), money(f.gbSeconds()*lambdaPerGBSecond + f.invocations/1e6*lambdaPerMillionRequests)})
	}
	printTable(frows)

	fmt.Printf("\nThe sample design costs %.1f× as much: %.0f%% of it is API Gateway messages (a POST to every connection instead of the room).\n",
		total(sb)/total(ob), 100*sb[0].cost/total(sb))
	if c.publishPerMinute > 0 || c.largeMembers > c.threshold {
		fmt.Println("The sample design has no publish path: its column carries none of the publications or the large room's messages, and \"per 1,000 messages\" divides by the chat messages only.")
	}
	fmt.Println("\nAssumptions, this design:")
	for _, n := range onotes {
		fmt.Println("  - " + n)
	}
	fmt.Println("  - Lambda duration = CPU ms × 1,769 ÷ memory MB + network wait; CPU measured natively by integ/cmd/loadbench on an x86-64 core (taken as a Graviton core's); init (cold starts) left out: a few per day per function")
	fmt.Println("Assumptions, sample design (aws-samples/simple-websockets-chat-app, sendmessage/app.js):")
	for _, n := range snotes {
		fmt.Println("  - " + n)
	}
}

// printTable prints rows as a Markdown table, the first row as header.
func printTable(rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for j, r := range rows {
		var b strings.Builder
		b.WriteString("|")
		for i, cell := range r {
			b.WriteString(" " + cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)) + " |")
		}
		fmt.Println(b.String())
		if j == 0 {
			b.Reset()
			b.WriteString("|")
			for _, wd := range widths {
				b.WriteString(" " + strings.Repeat("-", wd) + " |")
			}
			fmt.Println(b.String())
		}
	}
}

// money formats dollars.
func money(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("$%s", commas(math.Round(v)))
	case v >= 0.01:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.4f", v)
}

// commas formats a whole number with thousands separators.
func commas(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// human formats a large quantity (12.3 M, 4.5 B).
func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2f B", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
