package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Admiral-Piett/goaws/app/models"
	"github.com/Admiral-Piett/goaws/app/router"
)

// SenderHeader carries the SenderId of a SendMessage or SendMessageBatch request, set by the
// IAM-checking proxy in front of this server (the id of the caller's role session, as SQS
// records it); without it the account id is the sender.
const SenderHeader = "X-Sqslocal-Sender-Id"

// maxRequest bounds the request bodies read (SQS's own request limit is about 1 MiB + headers).
const maxRequest = 4 << 20

// jsonContentType is the content type of SQS's JSON protocol, the one aws-sdk-go-v2 speaks.
const jsonContentType = "application/x-amz-json-1.0"

// handler serves goaws's router and corrects, for SQS's JSON protocol, what goaws answers
// differently from SQS (query-protocol requests pass through untouched):
//   - CreateQueue: queue ARNs carry the region and partition (goaws leaves the region empty
//     when its queue URLs must resolve);
//   - SendMessage, SendMessageBatch: a message larger than the queue's MaximumMessageSize
//     (body plus attribute names, types and values, as SQS counts) is refused with SQS's
//     InvalidParameterValue wording; the batch answer uses SQS's Successful/Failed members
//     (goaws answers with its XML names, which the SDK does not read); the sender is kept;
//   - ReceiveMessage: ApproximateReceiveCount counts the receives (goaws always says 1),
//     SentTimestamp is the send time and ApproximateFirstReceiveTimestamp the first receive
//     (goaws gives the receive time for both), SenderId is the sender; system attributes and
//     message attributes are returned only when asked for, as SQS does;
//   - GetQueueAttributes: ApproximateNumberOfMessages counts the visible messages only,
//     ApproximateNumberOfMessagesNotVisible the in-flight ones and
//     ApproximateNumberOfMessagesDelayed the delayed ones (goaws counts every stored message as
//     the first and lumps the other two);
//   - DeleteMessage, DeleteMessageBatch: a well-formed receipt handle of a message that was
//     deleted or received again since succeeds without deleting, as on standard queues
//     (goaws fails it);
//   - errors: SQS's JSON error shape, {"__type": "com.amazonaws.sqs#<Error>", "message": ...}
//     with the X-Amzn-Query-Error header that gives the SDK its error code (goaws answers with
//     {"Type", "Code", "Message"}).
type handler struct {
	next                       http.Handler
	region, account, partition string

	mu   sync.Mutex
	msgs map[string]*messageState // by message id
}

// messageState is what the handler knows of a message that goaws does not keep.
type messageState struct {
	sender       string
	firstReceive int64 // Unix milliseconds; 0 before the first receive
}

func newHandler(region, account, partition string) *handler {
	return &handler{next: router.New(), region: region, account: account, partition: partition, msgs: map[string]*messageState{}}
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != jsonContentType {
		h.next.ServeHTTP(w, r)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", "could not read the request body: "+err.Error())
		return
	}
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	switch action {
	case "CreateQueue":
		h.createQueue(w, r, body)
	case "SendMessage":
		h.sendMessage(w, r, body)
	case "SendMessageBatch":
		h.sendMessageBatch(w, r, body)
	case "ReceiveMessage":
		h.receiveMessage(w, r, body)
	case "GetQueueAttributes":
		h.getQueueAttributes(w, r, body)
	case "DeleteMessage":
		h.deleteMessage(w, r, body)
	case "DeleteMessageBatch":
		h.deleteMessageBatch(w, r, body)
	default:
		rec := h.forward(r, body)
		rec.flush(w)
	}
}

// readBody reads r's body whole.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxRequest))
	return buf.Bytes(), err
}

// recorder keeps goaws's answer for correction.
type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *recorder) Header() http.Header         { return c.header }
func (c *recorder) Write(p []byte) (int, error) { return c.body.Write(p) }
func (c *recorder) WriteHeader(status int)      { c.status = status }

// flush writes the answer to w, in SQS's error shape when it is an error.
func (c *recorder) flush(w http.ResponseWriter) {
	if c.status >= 400 {
		writeGoawsError(w, c.status, c.body.Bytes())
		return
	}
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// forward serves a request with body on goaws and records the answer.
func (h *handler) forward(r *http.Request, body []byte) *recorder {
	r2 := r.Clone(r.Context())
	r2.Body = readCloser{bytes.NewReader(body)}
	r2.ContentLength = int64(len(body))
	rec := &recorder{status: http.StatusOK, header: http.Header{}}
	h.next.ServeHTTP(rec, r2)
	return rec
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// writeJSON answers 200 with v in the JSON protocol.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "com.amazonaws.sqs#InternalError", "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("X-Amzn-Requestid", requestID())
	_, _ = w.Write(b)
}

// queueName returns the queue name of a queue URL (its last path segment, as goaws and SQS
// read it).
func queueName(queueURL string) string {
	return queueURL[strings.LastIndex(queueURL, "/")+1:]
}

// createQueue fixes the new queue's ARN.
func (h *handler) createQueue(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct{ QueueName string }
	_ = json.Unmarshal(body, &req)
	rec := h.forward(r, body)
	if rec.status < 400 && req.QueueName != "" {
		models.SyncQueues.Lock()
		if q, ok := models.SyncQueues.Queues[req.QueueName]; ok {
			q.Arn = fmt.Sprintf("arn:%s:sqs:%s:%s:%s", h.partition, h.region, h.account, req.QueueName)
		}
		models.SyncQueues.Unlock()
	}
	rec.flush(w)
}

// messageAttribute is a message attribute as the JSON protocol carries it.
type messageAttribute struct {
	DataType    string
	StringValue string `json:",omitempty"`
	BinaryValue []byte `json:",omitempty"`
}

// messageSize is the size SQS counts for a message: its body plus, for each attribute, the
// name, the data type and the value.
func messageSize(body string, attrs map[string]messageAttribute) int {
	n := len(body)
	for k, a := range attrs {
		n += len(k) + len(a.DataType) + len(a.StringValue) + len(a.BinaryValue)
	}
	return n
}

// maxMessageSize returns the MaximumMessageSize of the queue, or 0 for an unknown queue.
func maxMessageSize(queue string) int {
	models.SyncQueues.RLock()
	defer models.SyncQueues.RUnlock()
	if q, ok := models.SyncQueues.Queues[queue]; ok {
		return q.MaximumMessageSize
	}
	return 0
}

// tooLong is SQS's refusal of a message over the queue's MaximumMessageSize.
func tooLong(w http.ResponseWriter, limit int) {
	writeError(w, http.StatusBadRequest, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue",
		fmt.Sprintf("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", limit))
}

// sender returns the SenderId a send request records.
func (h *handler) sender(r *http.Request) string {
	if s := r.Header.Get(SenderHeader); s != "" {
		return s
	}
	return h.account
}

// remember records the sender of a new message.
func (h *handler) remember(messageID, sender string) {
	if messageID == "" {
		return
	}
	h.mu.Lock()
	h.msgs[messageID] = &messageState{sender: sender}
	h.mu.Unlock()
}

// sendMessage checks the size, then records the sender of the message goaws stores.
func (h *handler) sendMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		QueueUrl          string
		MessageBody       string
		MessageAttributes map[string]messageAttribute
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", "The request body is not valid JSON: "+err.Error())
		return
	}
	if limit := maxMessageSize(queueName(req.QueueUrl)); limit > 0 && messageSize(req.MessageBody, req.MessageAttributes) > limit {
		tooLong(w, limit)
		return
	}
	rec := h.forward(r, body)
	if rec.status < 400 {
		var out struct{ MessageId string }
		_ = json.Unmarshal(rec.body.Bytes(), &out)
		h.remember(out.MessageId, h.sender(r))
	}
	rec.flush(w)
}

// sendMessageBatch checks the sizes, translates goaws's answer to SQS's members and records
// the senders.
func (h *handler) sendMessageBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		QueueUrl string
		Entries  []struct {
			Id                string
			MessageBody       string
			MessageAttributes map[string]messageAttribute
		}
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", "The request body is not valid JSON: "+err.Error())
		return
	}
	if limit := maxMessageSize(queueName(req.QueueUrl)); limit > 0 {
		total := 0
		for _, e := range req.Entries {
			n := messageSize(e.MessageBody, e.MessageAttributes)
			if n > limit {
				tooLong(w, limit)
				return
			}
			total += n
		}
		if total > limit {
			writeError(w, http.StatusBadRequest, "com.amazonaws.sqs#BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
				fmt.Sprintf("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, total))
			return
		}
	}
	rec := h.forward(r, body)
	if rec.status >= 400 {
		rec.flush(w)
		return
	}
	var out struct {
		Entries []json.RawMessage `json:"SendMessageBatchResultEntry"`
		Errors  []json.RawMessage `json:"BatchResultErrorEntry"`
	}
	_ = json.Unmarshal(rec.body.Bytes(), &out)
	sender := h.sender(r)
	for _, e := range out.Entries {
		var entry struct{ MessageId string }
		_ = json.Unmarshal(e, &entry)
		h.remember(entry.MessageId, sender)
	}
	if out.Entries == nil {
		out.Entries = []json.RawMessage{}
	}
	resp := map[string]any{"Successful": out.Entries}
	if len(out.Errors) > 0 {
		resp["Failed"] = out.Errors
	}
	writeJSON(w, resp)
}

// systemAttributes are the message system attributes a receive may ask for.
var systemAttributes = []string{"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "SenderId", "SentTimestamp"}

// receiveMessage corrects the attributes of the received messages.
func (h *handler) receiveMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		QueueUrl                    string
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
	}
	_ = json.Unmarshal(body, &req)
	rec := h.forward(r, body)
	if rec.status >= 400 {
		rec.flush(w)
		return
	}
	var out struct {
		Messages []*struct {
			MessageId              string
			ReceiptHandle          string
			MD5OfBody              string
			Body                   string
			MD5OfMessageAttributes string                      `json:",omitempty"`
			MessageAttributes      map[string]messageAttribute `json:",omitempty"`
			Attributes             map[string]string           `json:",omitempty"`
		}
	}
	if err := json.Unmarshal(rec.body.Bytes(), &out); err != nil {
		writeError(w, http.StatusInternalServerError, "com.amazonaws.sqs#InternalError", "InternalError", "goaws answered ReceiveMessage with "+err.Error())
		return
	}
	wantSystem := append(append([]string(nil), req.AttributeNames...), req.MessageSystemAttributeNames...)
	now := time.Now().UnixMilli()
	queue := queueName(req.QueueUrl)
	for _, m := range out.Messages {
		count, sent := receiveCount(queue, m.MessageId)
		h.mu.Lock()
		st := h.msgs[m.MessageId]
		if st == nil {
			st = &messageState{sender: h.account}
			h.msgs[m.MessageId] = st
		}
		if st.firstReceive == 0 {
			st.firstReceive = now
		}
		all := map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(count),
			"SentTimestamp":                    strconv.FormatInt(sent, 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(st.firstReceive, 10),
			"SenderId":                         st.sender,
		}
		h.mu.Unlock()
		m.Attributes = nil
		for _, name := range systemAttributes {
			if wanted(wantSystem, name) {
				if m.Attributes == nil {
					m.Attributes = map[string]string{}
				}
				m.Attributes[name] = all[name]
			}
		}
		attrs := m.MessageAttributes
		m.MessageAttributes = nil
		for k, v := range attrs {
			if wanted(req.MessageAttributeNames, k) {
				if m.MessageAttributes == nil {
					m.MessageAttributes = map[string]messageAttribute{}
				}
				m.MessageAttributes[k] = v
			}
		}
		if m.MessageAttributes == nil {
			m.MD5OfMessageAttributes = ""
		}
	}
	if out.Messages == nil {
		writeJSON(w, struct{}{})
		return
	}
	writeJSON(w, out)
}

// wanted reports whether a receive asking for names (All, .*, a prefix ending in .*, or exact
// names) returns the attribute name.
func wanted(names []string, name string) bool {
	for _, n := range names {
		if n == "All" || n == ".*" || n == name {
			return true
		}
		if p, ok := strings.CutSuffix(n, ".*"); ok && strings.HasPrefix(name, p+".") {
			return true
		}
	}
	return false
}

// receiveCount counts a receive of the message in goaws's store (goaws never increments its
// NumberOfReceives) and returns the new count with the message's send time, Unix ms.
func receiveCount(queue, messageID string) (int, int64) {
	models.SyncQueues.Lock()
	defer models.SyncQueues.Unlock()
	q, ok := models.SyncQueues.Queues[queue]
	if !ok {
		return 1, time.Now().UnixMilli()
	}
	for i := range q.Messages {
		if m := &q.Messages[i]; m.Uuid == messageID {
			m.NumberOfReceives++
			return m.NumberOfReceives, m.SentTime.UnixMilli()
		}
	}
	return 1, time.Now().UnixMilli()
}

// getQueueAttributes corrects the message counts.
func (h *handler) getQueueAttributes(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct{ QueueUrl string }
	_ = json.Unmarshal(body, &req)
	rec := h.forward(r, body)
	if rec.status >= 400 {
		rec.flush(w)
		return
	}
	var out struct{ Attributes map[string]string }
	if err := json.Unmarshal(rec.body.Bytes(), &out); err != nil {
		writeError(w, http.StatusInternalServerError, "com.amazonaws.sqs#InternalError", "InternalError", "goaws answered GetQueueAttributes with "+err.Error())
		return
	}
	visible, inFlight, delayed := counts(queueName(req.QueueUrl))
	for name, n := range map[string]int{
		"ApproximateNumberOfMessages":           visible,
		"ApproximateNumberOfMessagesNotVisible": inFlight,
		"ApproximateNumberOfMessagesDelayed":    delayed,
	} {
		if _, ok := out.Attributes[name]; ok || (name == "ApproximateNumberOfMessagesDelayed" && out.Attributes["ApproximateNumberOfMessages"] != "") {
			out.Attributes[name] = strconv.Itoa(n)
		}
	}
	writeJSON(w, out)
}

// counts returns the visible, in-flight and delayed messages of a queue.
func counts(queue string) (visible, inFlight, delayed int) {
	models.SyncQueues.RLock()
	defer models.SyncQueues.RUnlock()
	q, ok := models.SyncQueues.Queues[queue]
	if !ok {
		return 0, 0, 0
	}
	now := time.Now()
	for _, m := range q.Messages {
		switch {
		case m.ReceiptHandle != "":
			inFlight++
		case m.DelaySecs > 0 && now.Before(m.SentTime.Add(time.Duration(m.DelaySecs)*time.Second)):
			delayed++
		default:
			visible++
		}
	}
	return visible, inFlight, delayed
}

// receiptHandle matches the receipt handles goaws hands out: <message id>#<uuid>.
var receiptHandle = regexp.MustCompile(`^[0-9a-f-]{36}#[0-9a-f-]{36}$`)

// deleteMessage answers success for a stale but well-formed receipt handle.
func (h *handler) deleteMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct{ QueueUrl, ReceiptHandle string }
	_ = json.Unmarshal(body, &req)
	rec := h.forward(r, body)
	if rec.status == http.StatusNotFound && queueExists(queueName(req.QueueUrl)) {
		if !receiptHandle.MatchString(req.ReceiptHandle) {
			writeError(w, http.StatusBadRequest, "com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
				fmt.Sprintf("The input receipt handle \"%s\" is not a valid receipt handle.", req.ReceiptHandle))
			return
		}
		writeJSON(w, struct{}{})
		return
	}
	if rec.status < 400 {
		h.forget(req.ReceiptHandle)
	}
	rec.flush(w)
}

// forget drops the state of the message of a receipt handle once it is deleted.
func (h *handler) forget(handle string) {
	id, _, _ := strings.Cut(handle, "#")
	h.mu.Lock()
	delete(h.msgs, id)
	h.mu.Unlock()
}

// queueExists reports whether goaws has the queue.
func queueExists(queue string) bool {
	models.SyncQueues.RLock()
	defer models.SyncQueues.RUnlock()
	_, ok := models.SyncQueues.Queues[queue]
	return ok
}

// deleteMessageBatch turns goaws's "not found" failures of well-formed handles into successes.
func (h *handler) deleteMessageBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		QueueUrl string
		Entries  []struct{ Id, ReceiptHandle string }
	}
	_ = json.Unmarshal(body, &req)
	rec := h.forward(r, body)
	if rec.status >= 400 {
		rec.flush(w)
		return
	}
	var out struct {
		Successful []map[string]string
		Failed     []map[string]any
	}
	if err := json.Unmarshal(rec.body.Bytes(), &out); err != nil {
		writeError(w, http.StatusInternalServerError, "com.amazonaws.sqs#InternalError", "InternalError", "goaws answered DeleteMessageBatch with "+err.Error())
		return
	}
	handles := map[string]string{}
	for _, e := range req.Entries {
		handles[e.Id] = e.ReceiptHandle
	}
	failed := []map[string]any{}
	for _, f := range out.Failed {
		id, _ := f["Id"].(string)
		if receiptHandle.MatchString(handles[id]) {
			out.Successful = append(out.Successful, map[string]string{"Id": id})
			continue
		}
		failed = append(failed, map[string]any{"Id": id, "Code": "ReceiptHandleIsInvalid", "SenderFault": true,
			"Message": fmt.Sprintf("The input receipt handle \"%s\" is not a valid receipt handle.", handles[id])})
	}
	for _, s := range out.Successful {
		h.forget(handles[s["Id"]])
	}
	resp := map[string]any{"Successful": out.Successful}
	if out.Successful == nil {
		resp["Successful"] = []any{}
	}
	if len(failed) > 0 {
		resp["Failed"] = failed
	}
	writeJSON(w, resp)
}
