// @ts-check
// The shapes of the frames the server sends and of the client's events and options (types
// only: this module exports no values).

/**
 * A chat message as delivered to members and returned by history.
 * @typedef {object} Message
 * @property {"message"} [type]
 * @property {string} roomId
 * @property {number} seq the message's number in its room: 1, 2, 3, ... with no gaps; the order
 * @property {string} messageId
 * @property {string} userId
 * @property {string} [displayName]
 * @property {string} text
 * @property {string} sentAt UTC with milliseconds, e.g. "2026-12-06T11:39:41.200Z"
 * @property {string} [toUserId] set on a direct message: userId sent it to toUserId, in their
 *   conversation roomId (CONVERSATION_PREFIX + 40 hex digits)
 * @property {boolean} [system] published by a backend in userId's name
 * @property {string} [eventType] set on a stored application event (text is then empty)
 * @property {unknown} [data] the stored event's data
 */

/**
 * An application event a backend published, not stored nor numbered: missed while
 * disconnected. roomId is set when it was published to a room, absent when to the user or
 * the connection.
 * @typedef {object} AppEvent
 * @property {"event"} [type]
 * @property {string} [roomId]
 * @property {string} eventType the application's own type, e.g. "inventory.updated"
 * @property {unknown} data any JSON value
 * @property {string} sentAt
 */

/**
 * A user in a room.
 * @typedef {object} Member
 * @property {string} userId
 * @property {string} [displayName]
 * @property {number} connections the user's connections in the room
 */

/**
 * A page of a room's users (the members frame).
 * @typedef {object} MemberList
 * @property {"members"} [type]
 * @property {string} roomId
 * @property {Member[]} members
 * @property {string} [cursor] set when more users follow
 */

/**
 * The acknowledgement of a sent message.
 * @typedef {object} Ack
 * @property {"ack"} type
 * @property {string} roomId
 * @property {number} seq
 * @property {string} messageId
 * @property {string} [clientMessageId]
 * @property {string} userId
 * @property {string} [displayName]
 * @property {string} sentAt
 * @property {boolean} [duplicate] the message repeated a clientMessageId: nothing was stored again
 * @property {number} delivered
 * @property {number} undelivered
 * @property {number} gone
 * @property {boolean} [queued] a large room: stored, delivered later from a queue; the counts are 0
 * @property {string} [toUserId] set on the acknowledgement of a direct message
 */

/**
 * Someone joined or left a room.
 * @typedef {object} Presence
 * @property {"presence"} [type]
 * @property {string} roomId
 * @property {string} userId
 * @property {string} [displayName]
 * @property {"joined" | "left"} event
 */

/**
 * A page of a room's history, in seq order.
 * @typedef {object} HistoryPage
 * @property {"history"} [type]
 * @property {string} roomId
 * @property {Message[]} messages
 * @property {boolean} hasMore more exist in the direction read
 * @property {number} [before] with hasMore, reading backwards: the page's oldest seq
 * @property {number} [after] with hasMore, reading forwards: the page's newest seq
 * @property {number} lastSeq the room's last seq when the page was read
 * @property {{from: number, to: number}} [lost] numbers past retention
 */

/**
 * A room's messages from..to existed but are past history retention: they will never be
 * delivered. Delivery goes on with to+1.
 * @typedef {object} LostEvent
 * @property {string} roomId
 * @property {number} from
 * @property {number} to
 * @property {string} reason
 */

/** @typedef {"connecting" | "connected" | "reconnecting" | "closed"} State */

/**
 * The connection state changed, or a reconnect attempt failed (state stays "reconnecting").
 * @typedef {object} StateEvent
 * @property {State} state
 * @property {Error} [error] why the connection was lost, an attempt failed, or the client stopped
 */

/**
 * A room could not be resumed after a reconnect and was dropped.
 * @typedef {object} RoomErrorEvent
 * @property {string} roomId
 * @property {Error} error
 */

/**
 * API Gateway's own error frame ({"message":"Internal server error",...}): it names no
 * request; the request it answered is sent again after requestTimeout.
 * @typedef {object} GatewayErrorEvent
 * @property {string} message
 * @property {string} [requestId]
 */

/**
 * The events of a client, by name.
 * @typedef {object} EventMap
 * @property {Message} message each message of a joined room once, in seq order, own ones
 *   included; direct messages too (toUserId set), in their conversation's order
 * @property {AppEvent} event an application event a backend published
 * @property {Presence} presence
 * @property {LostEvent} lost
 * @property {StateEvent} state
 * @property {RoomErrorEvent} roomerror
 * @property {GatewayErrorEvent} gatewayerror
 */

/**
 * What the token callback is told about the connection it gets a token for.
 * @typedef {object} TokenRequest
 * @property {number} attempt 0 for the first connection (and each first try after a connection
 *   was up), then 1, 2, ... for the retries of one reconnect
 * @property {number} refused how many handshakes in a row closed before they opened: refused
 *   tokens or an unreachable server, which a browser cannot tell apart. Throw an AuthError to
 *   stop the client when the user's session is gone.
 */

/**
 * A WebSocket constructor: the browser's, Node 22's global one, or a compatible one.
 * @typedef {new (url: string, protocols?: string | string[]) => WebSocket} WebSocketConstructor
 */

/**
 * Where the client reports what it cannot return to a caller.
 * @typedef {object} Logger
 * @property {(message: string, fields?: Record<string, unknown>) => void} warn
 * @property {(message: string, fields?: Record<string, unknown>) => void} [debug]
 */

/**
 * The options of a client. token is required; every duration is in milliseconds and a missing
 * one takes its DEFAULTS value (the Go client's).
 * @typedef {object} Options
 * @property {(request: TokenRequest) => string | Promise<string>} token returns the token to
 *   connect with; called before every connection, so it can refresh an expiring token
 * @property {"query" | "subprotocol"} [tokenTransport] "query" (?token=, the default) or
 *   "subprotocol" (offers [subprotocol, "bearer.<token>"], which the server answers with subprotocol)
 * @property {string} [subprotocol] default SUBPROTOCOL ("chat.v1")
 * @property {number} [minBackoff] ceiling of the first reconnect's random wait
 * @property {number} [maxBackoff] cap of every random wait (≥ minBackoff)
 * @property {number} [heartbeatInterval] send a ping after this long without sending (< GATEWAY_IDLE_TIMEOUT)
 * @property {number} [pongTimeout] a ping without pong for this long counts the connection lost
 * @property {number} [maxConnectionAge] replace a connection this old (< GATEWAY_MAX_CONNECTION_AGE)
 * @property {number} [requestTimeout] bounds a handshake and the wait for an answer (then sent again)
 * @property {number} [gapTimeout] how long a gap in a room's seqs may stay open before history fills it
 * @property {WebSocketConstructor} [WebSocket] default globalThis.WebSocket
 * @property {Logger} [logger] default: discard
 * @property {() => number} [random] the jitter's source in [0, 1), default Math.random
 */

export {};
