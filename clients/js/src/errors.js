// @ts-check
// The errors of the client. Every message says what went wrong in the protocol's words and
// never carries a token.

/** Base of every error the client throws or reports. */
export class ChatError extends Error {
  /** @param {string} message @param {{cause?: unknown}} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The token cannot be used: it expired (its `exp` claim is past), or the token callback threw
 * an AuthError itself. The client does not connect with it, and a client that was connected
 * stops (state "closed"): the user must sign in again.
 */
export class AuthError extends ChatError {
  /**
   * @param {"expired" | "refused"} reason
   * @param {string} message
   * @param {{cause?: unknown}} [options]
   */
  constructor(reason, message, options) {
    super(message, options);
    /** Why: "expired" or "refused". */
    this.reason = reason;
  }
}

/**
 * The WebSocket closed before it opened. A browser (and Node's WebSocket) reports a handshake
 * the server refused (API Gateway answers a refused token with HTTP 401 or 403 before the
 * upgrade) exactly as an unreachable server: close code 1006 and nothing else, so this error
 * says both. connect() rejects with it at once, without retrying.
 */
export class HandshakeError extends ChatError {
  /** @param {string} message @param {number} code */
  constructor(message, code) {
    super(message);
    /** The close code the WebSocket reported (1006 for both causes). */
    this.code = code;
  }
}

/** A request refused before it was sent: an argument breaks a limit of the protocol. */
export class LimitError extends ChatError {
  /** @param {string} message @param {string} limit the limit's name, e.g. "MAX_TEXT_LENGTH" */
  constructor(message, limit) {
    super(message);
    /** The name of the broken limit in protocol.js. */
    this.limit = limit;
  }
}

/**
 * A request the server refused for good: its error frame (invalid_request, not_member,
 * unknown_action, invalid_json). The client retries rate_limited, internal_error and
 * unauthorized itself.
 */
export class ServerError extends ChatError {
  /** @param {{code: string, message: string, action?: string, roomId?: string, clientMessageId?: string}} frame */
  constructor(frame) {
    const room = frame.roomId ? ` in room "${frame.roomId}"` : "";
    super(`server refused ${frame.action || "the request"}${room}: ${frame.code}: ${frame.message}`);
    /** The error frame's code (protocol's Code* values). */
    this.code = frame.code;
    /** The server's explanation, naming the field at fault. */
    this.serverMessage = frame.message;
    this.action = frame.action;
    this.roomId = frame.roomId;
    this.clientMessageId = frame.clientMessageId;
  }
}

/** A connection ended (closed by the server, cut by the network, a ping without pong). */
export class ConnectionLostError extends ChatError {
  /** @param {string} message @param {number} [code] the close code, when there was one */
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** The client was closed (by close(), or because its token was refused): nothing more runs. */
export class ClosedError extends ChatError {
  /** @param {unknown} [cause] */
  constructor(cause) {
    super(cause instanceof Error ? `client closed: ${cause.message}` : "client closed", { cause });
  }
}

/**
 * Whether a request refused with code may succeed when sent again: rate_limited,
 * internal_error and unauthorized (the server no longer knows the connection).
 * @param {string} code
 */
export function retryable(code) {
  return code === "rate_limited" || code === "internal_error" || code === "unauthorized";
}
