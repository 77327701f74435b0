// Package client is the Go client of the chat: it connects to the WebSocket API, keeps the
// connection open across drops, and delivers each joined room's messages exactly once and in
// order.
//
// # Contract
//
// Delivery. For every room joined with [Client.Join], [Client.Events] delivers each message
// after the room's last sequence number at the time of the first join, exactly once and in
// sequence order (protocol.Message.Seq), until [Client.Leave] or [Client.Close]; the client's
// own messages are among them, placed by their acknowledgement. Frames that arrive out of
// order are held back until the gap before them is filled; a gap still open after
// Options.GapTimeout, or left by a resume, is read from history. Messages past the server's
// history retention are skipped with a [LostEvent] naming them: that, and leaving or closing,
// are the only ways a message is not delivered. Events are never dropped: when the
// application does not read them, the client waits (and stops reading its connection) once
// Options.EventBuffer events are pending.
//
// Reconnect. When the connection is lost (closed by the server, cut by the network, a
// heartbeat ping without pong), the state goes to Reconnecting and the client connects
// again, with exponential backoff and full jitter between Options.MinBackoff and
// Options.MaxBackoff, asking Options.Token for a token each time. On the new connection it
// rejoins every joined room with since = the last sequence number it delivered; the server
// replays what was missed, and the state goes back to Connected (replayed messages are
// delivered before that StateEvent). This goes on until Close: the client never gives up.
//
// Connection age. API Gateway closes every connection after two hours. Before that
// (Options.MaxConnectionAge) the client opens a new connection, resumes every room on it,
// and only then closes the old one: for a moment both deliver, and duplicates are dropped by
// sequence number, so nothing is missed and the state stays Connected.
//
// Idle. API Gateway closes a connection idle for ten minutes. When the client sent nothing
// for Options.HeartbeatInterval it sends a ping; no pong within Options.PongTimeout counts
// the connection lost.
//
// Sends. [Client.Send] waits for a connection when there is none, and sends a message again
// until it is acknowledged (after a drop, a missing answer, rate_limited, internal_error),
// always with the same clientMessageId, which the server stores and delivers once. It fails
// only for good ([*Error]: not_member, invalid_request), or when its context ends.
//
// Direct messages. [Client.Direct] sends to one user, queued and retried like Send. Direct
// messages are MessageEvents with ToUserID set, in the two users' conversation
// (protocol.ConversationID): the client tracks each conversation it sees a direct message of
// (received, or its own acknowledged) like a joined room, from that message on: exactly
// once, in order, gaps read from history, resumed after reconnects, with no Join.
//
// Application events that backends publish come as [AppEvent]s (not numbered, missed while
// disconnected); stored ones are MessageEvents with EventType and Data. [Client.Members]
// lists a joined room's users page by page.
//
// Requests are matched to their answers by type, room and clientMessageId, since the server
// answers concurrent requests in any order. A request left without answer for
// Options.RequestTimeout (API Gateway's own error frames, such as "Internal server error",
// name no request) is sent again, and the connection is probed with a ping.
//
// The package links neither CDK nor the AWS SDK.
package client
