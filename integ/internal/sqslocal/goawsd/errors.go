package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// writeError answers as SQS's JSON protocol does for an error: the status, a body
// {"__type": typ, "message": msg}, and X-Amzn-Query-Error "<queryCode>;Sender", from which
// the SDK takes the error code (SQS is awsQueryCompatible).
func writeError(w http.ResponseWriter, status int, typ, queryCode, msg string) {
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.Header().Set("X-Amzn-Query-Error", queryCode+";Sender")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sqsErrors maps goaws's error codes and types to SQS's: JSON type, query code, message, status.
var sqsErrors = map[string]struct {
	typ, code, msg string
	status         int
}{
	"AWS.SimpleQueueService.NonExistentQueue": {"com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.", http.StatusBadRequest},
	"MessageNotInFlight":                      {"com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "The message referred to isn't in flight.", http.StatusBadRequest},
	"TooManyEntriesInBatchRequest":            {"com.amazonaws.sqs#TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "", http.StatusBadRequest},
	"BatchEntryIdsNotDistinct":                {"com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "", http.StatusBadRequest},
	"EmptyBatchRequest":                       {"com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "", http.StatusBadRequest},
	"InvalidAttributeValue":                   {"com.amazonaws.sqs#InvalidAttributeValue", "InvalidAttributeValue", "", http.StatusBadRequest},
}

// writeGoawsError rewrites goaws's JSON error {"Type", "Code", "Message"} in SQS's shape.
func writeGoawsError(w http.ResponseWriter, status int, body []byte) {
	var e struct{ Type, Code, Message string }
	if err := json.Unmarshal(body, &e); err != nil {
		writeError(w, status, "com.amazonaws.sqs#InternalError", "InternalError", fmt.Sprintf("goaws answered %d: %s", status, body))
		return
	}
	m, ok := sqsErrors[e.Code]
	if !ok {
		m, ok = sqsErrors[e.Type]
	}
	if !ok {
		writeError(w, status, "com.amazonaws.sqs#InvalidParameterValue", "InvalidParameterValue", e.Message)
		return
	}
	if m.msg == "" {
		m.msg = e.Message
	}
	writeError(w, m.status, m.typ, m.code, m.msg)
}

// requestID returns a random UUID, as SQS's request ids are.
func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
