// Package sqslocal runs an SQS-compatible server on this machine for the local stack and its
// tests: goaws (github.com/Admiral-Piett/goaws, pinned in go.mod), which speaks SQS's JSON
// protocol that aws-sdk-go-v2's sqs client uses, served by the goawsd command of this module
// with the corrections that make it answer as SQS does where the emulator relies on it
// (ApproximateReceiveCount, SentTimestamp and the other system attributes, the visible and
// in-flight counts, the message size limit and its wording, SendMessageBatch's answer, stale
// receipt handles, SQS's error shape: see goawsd).
//
// Contract:
//   - Start builds goawsd (once per process, with the module's own go.mod, so the pinned
//     goaws) and runs it as a child process on a free port of 127.0.0.1; it returns once the
//     server answers. goaws keeps its queues in package variables, so each Server is a process
//     of its own: two Servers never share a queue. Close kills it; it also exits by itself
//     when this process dies.
//   - Queues are created with CreateQueue by the caller. A queue named n has the URL
//     Endpoint()+"/"+AccountID+"/"+n (QueueURL) and the ARN
//     arn:<partition>:sqs:<region>:<account>:n (QueueARN); requests name queues by URL, and
//     only its last path segment counts, as with SQS.
//   - It checks no signature or permission: put an IAM-checking proxy in front of it (package
//     iamcheck). Such a proxy sets SenderHeader to the caller's id, which SenderId reports.
//   - Visibility timeouts expire within 100 ms of their due time; a message whose receive count
//     reaches the source queue's maxReceiveCount moves to the dead-letter queue when its
//     visibility timeout expires (SQS moves it on the next receive: the number of deliveries
//     is the same). MessageRetentionPeriod is not enforced (goaws keeps messages until
//     deleted), and FIFO queues are goaws's (message groups are not fully isolated).
package sqslocal
