// @ts-check
// The chat client: reconnect, heartbeat, resume, ordered delivery, queued sends (the Go
// client's contract, see README.md).

import { backoffDelay } from "./backoff.js";
import { Connection, TimeoutError, waitKey } from "./connection.js";
import { AuthError, ChatError, ClosedError, ConnectionLostError, HandshakeError, LimitError, ServerError, retryable } from "./errors.js";
import { CONVERSATION_PREFIX, DEFAULTS, GATEWAY_IDLE_TIMEOUT, GATEWAY_MAX_CONNECTION_AGE, MAX_HISTORY_LIMIT, MAX_MEMBERS_LIMIT, MAX_TEXT_LENGTH, MAX_USER_ID_LENGTH, ROOM_ID_PATTERN, SUBPROTOCOL } from "./protocol.js";
import { Sequencer } from "./sequencer.js";
import { tokenExpiry } from "./token.js";

/** @typedef {import("./types.js").Options} Options */
/** @typedef {import("./types.js").EventMap} EventMap */
/** @typedef {import("./types.js").State} State */
/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").Ack} Ack */
/** @typedef {import("./types.js").HistoryPage} HistoryPage */
/** @typedef {import("./types.js").Member} Member */
/** @typedef {import("./types.js").MemberList} MemberList */
/** @typedef {import("./sequencer.js").Delivery} Delivery */
/** @typedef {import("./connection.js").Answer} Answer */

const roomIdPattern = new RegExp(ROOM_ID_PATTERN);
const replaced = new ChatError("connection replaced (maxConnectionAge)");

/** The answer frame type of each action. @type {Record<string, string>} */
const answerTypes = { joinroom: "joined", leaveroom: "left", history: "history", sendmessage: "ack", direct: "ack", members: "members" };

/** The most members pages members() reads of one room. */
export const MAX_MEMBERS_PAGES = 100;

/** @typedef {{key: string, body: string}} Request */

/** A joined room: its sequencer and its gap filling. */
class Room {
  /** @param {string} id */
  constructor(id) {
    this.id = id;
    this.seq = new Sequencer(id);
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.gapTimer = undefined;
    this.filling = false;
  }

  stopTimer() {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}

/** A mutex over async work: run(f) runs f after every earlier f has settled. */
class Lock {
  constructor() {
    /** @type {Promise<unknown>} */
    this.tail = Promise.resolve();
  }

  /** @template T @param {() => Promise<T>} f @returns {Promise<T>} */
  run(f) {
    const result = this.tail.then(f, f);
    this.tail = result.catch(() => {});
    return result;
  }
}

/**
 * Checks a room id against the protocol; throws a LimitError naming the pattern.
 * @param {string} roomId
 */
export function checkRoomId(roomId) {
  if (typeof roomId !== "string" || !roomIdPattern.test(roomId)) {
    const shown = typeof roomId === "string" ? JSON.stringify(roomId.slice(0, 128)) : String(roomId);
    throw new LimitError(`room id ${shown} does not match ${ROOM_ID_PATTERN} (1 to 64 letters, digits, _ . : -)`, "ROOM_ID_PATTERN");
  }
}

/**
 * Checks a message text against the protocol: 1 to MAX_TEXT_LENGTH Unicode code points (as
 * the server counts them); throws a LimitError naming the limit.
 * @param {string} text
 */
export function checkText(text) {
  if (typeof text !== "string") throw new LimitError(`text must be a string, got ${typeof text}`, "MAX_TEXT_LENGTH");
  let n = 0;
  for (const _ of text) n++;
  if (n === 0) throw new LimitError("text is empty: a message has 1 to " + MAX_TEXT_LENGTH + " characters", "MAX_TEXT_LENGTH");
  if (n > MAX_TEXT_LENGTH) throw new LimitError(`text has ${n} characters, over the limit of ${MAX_TEXT_LENGTH} (MAX_TEXT_LENGTH)`, "MAX_TEXT_LENGTH");
}

/**
 * Reports whether roomId names a direct conversation (protocol.ConversationID).
 * @param {string} roomId
 */
export function isConversation(roomId) {
  return typeof roomId === "string" && roomId.startsWith(CONVERSATION_PREFIX);
}

/**
 * Checks a user id to send to: 1 to MAX_USER_ID_LENGTH code points; throws a LimitError.
 * @param {string} userId
 */
export function checkUserId(userId) {
  let n = 0;
  if (typeof userId === "string") for (const _ of userId) n++;
  if (n === 0 || n > MAX_USER_ID_LENGTH) {
    throw new LimitError(`user id must have 1 to ${MAX_USER_ID_LENGTH} characters (MAX_USER_ID_LENGTH), got ${n}`, "MAX_USER_ID_LENGTH");
  }
}

/** @param {Options} o @returns {Required<Omit<Options, "WebSocket">> & {WebSocket: import("./types.js").WebSocketConstructor}} */
function withDefaults(o) {
  if (o === null || typeof o !== "object") throw new TypeError("chat: options must be an object with at least a token callback");
  if (typeof o.token !== "function") throw new TypeError("chat: options.token is required: a function that returns the token to connect with");
  const WS = o.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
  if (typeof WS !== "function") {
    throw new TypeError("chat: options.WebSocket is required here: this runtime has no global WebSocket (Node 20 needs --experimental-websocket, or pass a constructor)");
  }
  const out = {
    token: o.token,
    tokenTransport: o.tokenTransport ?? "query",
    subprotocol: o.subprotocol ?? SUBPROTOCOL,
    minBackoff: o.minBackoff ?? DEFAULTS.minBackoff,
    maxBackoff: o.maxBackoff ?? DEFAULTS.maxBackoff,
    heartbeatInterval: o.heartbeatInterval ?? DEFAULTS.heartbeatInterval,
    pongTimeout: o.pongTimeout ?? DEFAULTS.pongTimeout,
    maxConnectionAge: o.maxConnectionAge ?? DEFAULTS.maxConnectionAge,
    requestTimeout: o.requestTimeout ?? DEFAULTS.requestTimeout,
    gapTimeout: o.gapTimeout ?? DEFAULTS.gapTimeout,
    WebSocket: WS,
    logger: o.logger ?? { warn() {}, debug() {} },
    random: o.random ?? Math.random,
  };
  if (out.tokenTransport !== "query" && out.tokenTransport !== "subprotocol") {
    throw new RangeError(`chat: options.tokenTransport (${JSON.stringify(out.tokenTransport)}) must be "query" or "subprotocol"`);
  }
  for (const name of /** @type {const} */ (["minBackoff", "maxBackoff", "heartbeatInterval", "pongTimeout", "maxConnectionAge", "requestTimeout", "gapTimeout"])) {
    const v = out[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`chat: options.${name} (${String(v)}) must be a positive number of milliseconds (leave it out for the default, ${DEFAULTS[name]})`);
    }
  }
  if (out.maxBackoff < out.minBackoff) {
    throw new RangeError(`chat: options.maxBackoff (${out.maxBackoff}) must be ≥ options.minBackoff (${out.minBackoff})`);
  }
  if (out.heartbeatInterval >= GATEWAY_IDLE_TIMEOUT) {
    throw new RangeError(`chat: options.heartbeatInterval (${out.heartbeatInterval}) must be below API Gateway's idle timeout (${GATEWAY_IDLE_TIMEOUT})`);
  }
  if (out.maxConnectionAge >= GATEWAY_MAX_CONNECTION_AGE) {
    throw new RangeError(`chat: options.maxConnectionAge (${out.maxConnectionAge}) must be below API Gateway's connection cap (${GATEWAY_MAX_CONNECTION_AGE})`);
  }
  return out;
}

/**
 * Parses a chat URL: ws:// or wss://, without a token of its own.
 * @param {string} raw
 */
function checkURL(raw) {
  /** @type {URL} */
  let u;
  try {
    u = new URL(raw);
  } catch {
    throw new TypeError(`chat: url ${JSON.stringify(String(raw).split("?")[0])} does not parse`);
  }
  const shown = `${u.protocol}//${u.host}${u.pathname}`;
  if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new TypeError(`chat: url ${shown} must start with ws:// or wss://`);
  if (u.searchParams.has("token")) throw new TypeError(`chat: url ${shown} carries a token: give it with options.token`);
  return u;
}

/**
 * A chat connection that survives drops. Create it, add listeners with on(), then connect().
 *
 * Delivery: for every room joined with join(), "message" events deliver each message after the
 * room's last seq at the time of the first join, exactly once and in seq order, own messages
 * included, until leave() or close(). Out-of-order frames wait for the gap before them; a gap
 * still open after gapTimeout, or left by a resume, is read from history.
 *
 * Reconnect: when the connection is lost the state goes to "reconnecting" and the client
 * connects again with exponential backoff and full jitter (minBackoff..maxBackoff), asking
 * options.token for a token each time, and rejoins every room with since = the last seq it
 * delivered; then "connected" again. It never gives up, except when the token is refused for
 * good (see AuthError): then the state goes to "closed" with that error.
 *
 * Connection age: before API Gateway's 2-hour cap (maxConnectionAge) it opens a new
 * connection, resumes every room on it, and only then closes the old one.
 *
 * Heartbeat: after heartbeatInterval without sending it sends {"action":"ping"}; no pong
 * within pongTimeout counts the connection lost.
 *
 * Direct messages: direct() sends to one user; "message" events with toUserId set deliver
 * direct messages in their conversation (roomId = CONVERSATION_PREFIX...), which the client
 * tracks like a joined room from the first one it sees, with no join. "event" events carry
 * what backends publish (not numbered); stored ones are messages with eventType and data.
 *
 * Sends: send() waits for a connection when there is none, and sends again until
 * acknowledged (after a drop, a missing answer, rate_limited, internal_error) with the same
 * clientMessageId, which the server stores and delivers once.
 */
export class ChatClient {
  /** @param {string} url the stage's ws:// or wss:// URL @param {Options} options */
  constructor(url, options) {
    this.url = checkURL(url);
    this.opts = withDefaults(options);
    this.logger = this.opts.logger;
    /** @type {State} */
    this.state = "connecting";
    this.started = false;
    this.closed = false;
    /** @type {Connection | null} the connection requests go to; null while reconnecting */
    this.cur = null;
    /** @type {Set<() => void>} woken whenever cur changes or the client closes */
    this.curWaiters = new Set();
    /** @type {Map<string, Room>} */
    this.rooms = new Map();
    /** @type {Map<string, {join: Lock, history: Lock, members: Lock}>} */
    this.locks = new Map();
    /** Text of in-flight sends, by clientMessageId. @type {Map<string, string>} */
    this.sends = new Map();
    /** @type {{[K in keyof EventMap]?: Set<(e: EventMap[K]) => void>}} */
    this.listeners = {};
    /** @type {Set<() => void>} woken by close() */
    this.sleepers = new Set();
    /** @type {Error | undefined} why the client closed itself */
    this.closeCause = undefined;
  }

  /**
   * Calls listener with every event of that name; returns a function that removes it.
   * @template {keyof EventMap} K @param {K} name @param {(e: EventMap[K]) => void} listener
   */
  on(name, listener) {
    const set = /** @type {Set<(e: EventMap[K]) => void>} */ (this.listeners[name] ??= /** @type {any} */ (new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** @template {keyof EventMap} K @param {K} name @param {EventMap[K]} event */
  emit(name, event) {
    for (const l of this.listeners[name] ?? []) {
      try {
        l(event);
      } catch (e) {
        this.logger.warn("chat: an event listener threw", { event: name, error: e });
      }
    }
  }

  /**
   * Makes the first connection and resolves once it is open (state "connected"). It does not
   * retry: it rejects with an AuthError (expired token, or the token callback's), a
   * HandshakeError (the server refused the token or cannot be reached), or the token
   * callback's error; the client is then closed. Call it once.
   */
  async connect() {
    if (this.started) throw new ChatError("connect() was already called: create a new client to connect again");
    this.started = true;
    let first;
    try {
      first = await this.open({ attempt: 0, refused: 0 });
    } catch (err) {
      this.shutdown(/** @type {Error} */ (err));
      throw err;
    }
    if (this.closed) {
      first.kill(new ClosedError());
      throw new ClosedError(this.closeCause);
    }
    first.start();
    this.setCurrent(first, "connected");
    void this.supervise(first);
  }

  /** Closes the connection (1000) and stops the client: pending requests reject with a ClosedError. */
  close() {
    this.shutdown(undefined);
  }

  /** @param {Error | undefined} cause */
  shutdown(cause) {
    if (this.closed) return;
    this.closed = true;
    this.closeCause = cause;
    this.cur?.closeNormally(new ClosedError(cause));
    this.cur = null;
    for (const r of this.rooms.values()) r.stopTimer();
    for (const w of [...this.curWaiters, ...this.sleepers]) w();
    this.state = "closed";
    this.emit("state", cause ? { state: "closed", error: cause } : { state: "closed" });
  }

  /**
   * Makes cn the connection requests go to (null while reconnecting) and announces the state:
   * each change, and each failure (why) even in the same state.
   * @param {Connection | null} cn @param {State} s @param {Error} [why]
   */
  setCurrent(cn, s, why) {
    if (this.closed) return;
    this.cur = cn;
    for (const w of this.curWaiters) w();
    const changed = this.state !== s;
    this.state = s;
    if (changed || why) this.emit("state", why ? { state: s, error: why } : { state: s });
  }

  /** Waits for a live connection to send on. @param {AbortSignal} [signal] @returns {Promise<Connection>} */
  async current(signal) {
    for (;;) {
      if (this.closed) throw new ClosedError(this.closeCause);
      signal?.throwIfAborted();
      const cn = this.cur;
      if (cn && !cn.dead) return cn;
      await new Promise((resolve) => {
        const wake = () => {
          this.curWaiters.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve(undefined);
        };
        this.curWaiters.add(wake);
        signal?.addEventListener("abort", wake);
        if (cn) cn.done.then(wake);
      });
    }
  }

  /** Waits ms; resolves false when the client closed first. @param {number} ms @param {AbortSignal} [signal] */
  sleep(ms, signal) {
    return new Promise((resolve) => {
      const done = (/** @type {boolean} */ ok) => {
        clearTimeout(t);
        this.sleepers.delete(stop);
        signal?.removeEventListener("abort", stop);
        resolve(ok && !this.closed);
      };
      const stop = () => done(false);
      const t = setTimeout(() => done(true), ms);
      this.sleepers.add(stop);
      signal?.addEventListener("abort", stop);
      if (this.closed || signal?.aborted) stop();
    });
  }

  /** @param {number} n */
  backoff(n) {
    return backoffDelay(n, this.opts.minBackoff, this.opts.maxBackoff, this.opts.random);
  }

  /**
   * Gets a token and opens one connection, not yet started.
   * @param {import("./types.js").TokenRequest} req @returns {Promise<Connection>}
   */
  async open(req) {
    let token;
    try {
      token = await this.opts.token(req);
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw new ChatError(`could not get a token: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (typeof token !== "string" || token === "") throw new ChatError("the token callback returned no token (want a non-empty string)");
    const exp = tokenExpiry(token);
    if (exp !== undefined && exp * 1000 <= Date.now()) {
      throw new AuthError("expired", `the token expired at ${new Date(exp * 1000).toISOString()}: sign in again`);
    }
    const u = new URL(this.url);
    /** @type {string[] | undefined} */
    let protocols;
    if (this.opts.tokenTransport === "query") u.searchParams.set("token", token);
    else protocols = [this.opts.subprotocol, "bearer." + token];
    const ws = new this.opts.WebSocket(u.toString(), protocols);
    const cn = new Connection(this, ws);
    await cn.opened;
    if (protocols && ws.protocol !== this.opts.subprotocol) {
      cn.closeNormally(new ChatError("subprotocol mismatch"));
      throw new ChatError(`the server answered subprotocol ${JSON.stringify(ws.protocol)}, want ${JSON.stringify(this.opts.subprotocol)}`);
    }
    return cn;
  }

  /**
   * Keeps a connection open until close(): replaces cur when it dies ("reconnecting" in
   * between) or grows old (overlapping: the new one takes over once every room is resumed on
   * it, and only then is the old one closed).
   * @param {Connection} cur
   */
  async supervise(cur) {
    while (!this.closed) {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let aged;
      const agedOut = new Promise((resolve) => (aged = setTimeout(() => resolve("aged"), this.opts.maxConnectionAge)));
      const why = await Promise.race([cur.done.then(() => "dead"), agedOut, new Promise((r) => this.sleepers.add(() => r("closed")))]);
      clearTimeout(aged);
      if (this.closed) return;
      if (why === "dead") {
        const cause = /** @type {Error} */ (cur.cause);
        this.logger.warn("chat: connection lost", { error: cause.message });
        this.setCurrent(null, "reconnecting", cause);
        const next = await this.reconnect(null);
        if (!next) return;
        this.setCurrent(next, "connected");
        cur = next;
      } else {
        const next = await this.reconnect(cur);
        if (!next) return;
        this.setCurrent(next, "connected");
        cur.closeNormally(replaced);
        cur = next;
      }
    }
  }

  /**
   * Opens a connection and resumes every joined room on it, retrying with backoff until it
   * succeeds; null once the client is closed. While old is alive (a proactive replacement)
   * failed attempts stay silent; once it is dead, "reconnecting" says each.
   * @param {Connection | null} old @returns {Promise<Connection | null>}
   */
  async reconnect(old) {
    let refused = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && !(await this.sleep(this.backoff(attempt - 1)))) return null;
      if (this.closed) return null;
      /** @type {Error} */
      let err;
      try {
        const next = await this.open({ attempt, refused });
        if (this.closed) {
          next.kill(new ClosedError());
          return null;
        }
        next.start();
        try {
          await this.resumeRooms(next);
          return next;
        } catch (e) {
          err = /** @type {Error} */ (e);
          next.kill(err);
        }
      } catch (e) {
        err = /** @type {Error} */ (e);
        if (err instanceof AuthError) {
          this.shutdown(err);
          return null;
        }
        refused = err instanceof HandshakeError ? refused + 1 : 0;
      }
      if (this.closed) return null;
      this.logger.warn("chat: reconnect failed", { attempt: attempt + 1, error: err.message });
      if (!old || old.dead) this.setCurrent(null, "reconnecting", err);
    }
  }

  /**
   * Rejoins every room on cn, each with since = its last delivered seq. A room the server
   * refuses for good is dropped ("roomerror"); any other failure fails the connection.
   * @param {Connection} cn
   */
  async resumeRooms(cn) {
    const results = await Promise.allSettled([...this.rooms.values()].map((r) => this.resumeRoom(cn, r)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw /** @type {PromiseRejectedResult} */ (failed).reason;
  }

  /** @param {Connection} cn @param {Room} r */
  async resumeRoom(cn, r) {
    for (let refusals = 0; ; refusals++) {
      const req = joinRequest(r.id, r.seq.since());
      const a = await cn.roundTrip(req.key, req.body);
      if (!a.error) return;
      if (a.error.code === "unauthorized") throw new ServerError(a.error);
      if (!retryable(a.error.code)) {
        this.dropRoom(r);
        this.emit("roomerror", { roomId: r.id, error: new ServerError(a.error) });
        return;
      }
      if (!(await this.sleep(this.backoff(refusals)))) throw new ClosedError(this.closeCause);
    }
  }

  /**
   * Sends req until it is answered: waits through reconnects, sends again after a lost
   * connection or requestTimeout, retries rate_limited and internal_error after a backoff,
   * and on unauthorized replaces the connection. Rejects with a ServerError when the server
   * refused for good, a ClosedError, or signal's reason.
   * @param {Request} req @param {AbortSignal} [signal] @returns {Promise<any>} the answer frame
   */
  async request(req, signal) {
    let refusals = 0;
    for (;;) {
      const cn = await this.current(signal);
      /** @type {Answer} */
      let a;
      try {
        a = await cn.roundTrip(req.key, req.body, signal);
      } catch (err) {
        if (this.closed) throw new ClosedError(this.closeCause);
        if (signal?.aborted) throw signal.reason;
        if (err instanceof TimeoutError) cn.probe();
        else if (!(err instanceof ConnectionLostError) && !(err instanceof ChatError)) throw err;
        this.logger.debug?.("chat: request sent again", { key: req.key, error: String(err) });
        continue;
      }
      if (!a.error) return a.frame;
      if (!retryable(a.error.code)) throw new ServerError(a.error);
      if (a.error.code === "unauthorized") cn.kill(new ConnectionLostError(`connection lost: the server does not know it (${a.error.code})`));
      if (!(await this.sleep(this.backoff(refusals++), signal))) {
        if (this.closed) throw new ClosedError(this.closeCause);
        throw signal?.reason;
      }
    }
  }

  /** @param {string} id */
  roomLocks(id) {
    let l = this.locks.get(id);
    if (!l) this.locks.set(id, (l = { join: new Lock(), history: new Lock(), members: new Lock() }));
    return l;
  }

  /**
   * Joins roomId: its messages are delivered from now on, each after the room's last seq at
   * the time of joining, exactly once and in order. Joining a joined room resumes it. The
   * room stays joined across reconnects until leave().
   * @param {string} roomId @param {{signal?: AbortSignal}} [options]
   */
  async join(roomId, options = {}) {
    checkRoomId(roomId);
    await this.roomLocks(roomId).join.run(async () => {
      let r = this.rooms.get(roomId);
      const joined = r !== undefined;
      if (!r) this.rooms.set(roomId, (r = new Room(roomId)));
      try {
        const req = joinRequest(roomId, r.seq.since());
        await this.request(req, options.signal);
      } catch (err) {
        if (!joined) this.dropRoom(r);
        throw err;
      }
    });
  }

  /**
   * Ends the membership of roomId: no more of its events from now on, and it is not rejoined.
   * Leaving a room the client is not in succeeds.
   * @param {string} roomId @param {{signal?: AbortSignal}} [options]
   */
  async leave(roomId, options = {}) {
    checkRoomId(roomId);
    await this.roomLocks(roomId).join.run(async () => {
      const r = this.rooms.get(roomId);
      if (r) this.dropRoom(r);
      try {
        await this.request({ key: waitKey("left", roomId), body: JSON.stringify({ action: "leaveroom", roomId }) }, options.signal);
      } catch (err) {
        if (!(err instanceof ServerError && err.code === "not_member")) throw err;
      }
    });
  }

  /**
   * Reads a page of roomId's history, oldest first, to show older messages: continue with
   * {before: page.before} while page.hasMore. Its messages are not delivered as events.
   * @param {string} roomId
   * @param {{before?: number, limit?: number, signal?: AbortSignal}} [query] before: read below
   *   this seq (default: the newest); limit: 1 to MAX_HISTORY_LIMIT (default DEFAULT_HISTORY_LIMIT)
   * @returns {Promise<HistoryPage>}
   */
  async history(roomId, query = {}) {
    checkRoomId(roomId);
    const { before, limit, signal } = query;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)) {
      throw new LimitError(`history limit (${limit}) must be a whole number from 1 to ${MAX_HISTORY_LIMIT} (MAX_HISTORY_LIMIT)`, "MAX_HISTORY_LIMIT");
    }
    if (before !== undefined && (!Number.isSafeInteger(before) || before < 1)) {
      throw new LimitError(`history before (${before}) must be a whole number from 1`, "MAX_SEQ");
    }
    return this.roomLocks(roomId).history.run(() =>
      this.request({ key: waitKey("history", roomId), body: JSON.stringify({ action: "history", roomId, limit, before }) }, signal),
    );
  }

  /**
   * Posts text to a joined room and resolves with its acknowledgement (ack.seq places it);
   * the message also comes as a "message" event in its order. It is queued while
   * disconnected and sent again until acknowledged, always with the same clientMessageId.
   * Rejects with a LimitError before sending when text breaks MAX_TEXT_LENGTH or roomId the
   * pattern, a ServerError when refused for good, a ClosedError, or signal's reason (the
   * message may then have been stored or not).
   * @param {string} roomId @param {string} text @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<Ack>}
   */
  async send(roomId, text, options = {}) {
    checkRoomId(roomId);
    checkText(text);
    const cmid = newClientMessageId();
    this.sends.set(cmid, text);
    try {
      return await this.request(
        { key: waitKey("ack", roomId, cmid), body: JSON.stringify({ action: "sendmessage", roomId, text, clientMessageId: cmid }) },
        options.signal,
      );
    } finally {
      this.sends.delete(cmid);
    }
  }

  /**
   * Sends text to the user toUserId and resolves with its acknowledgement: ack.roomId is the
   * two users' conversation (CONVERSATION_PREFIX + 40 hex digits), ack.toUserId the recipient.
   * Queued and sent again like send(), with the same clientMessageId. The message also comes
   * as a "message" event (toUserId set) in the conversation's order: from then on the client
   * tracks the conversation like a joined room (once, in order, gaps read from history,
   * resumed after reconnects), as it does from the first direct message it receives. Rejects
   * with a ServerError not_allowed (the API's direct message policy) or unknown_user (the
   * user never connected), and otherwise as send() does.
   * @param {string} toUserId @param {string} text @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<Ack>}
   */
  async direct(toUserId, text, options = {}) {
    checkUserId(toUserId);
    checkText(text);
    const cmid = newClientMessageId();
    this.sends.set(cmid, text);
    try {
      // Keyed by clientMessageId alone: the conversation id is not known before the ack.
      return await this.request({ key: waitKey("ack", "", cmid), body: JSON.stringify({ action: "direct", toUserId, text, clientMessageId: cmid }) }, options.signal);
    } finally {
      this.sends.delete(cmid);
    }
  }

  /**
   * Lists the users in roomId (a joined room), following the server's cursor page by page
   * (MAX_MEMBERS_LIMIT a page) until the last page or max users. Rejects with a ServerError
   * not_member when the room is not joined.
   * @param {string} roomId @param {{max?: number, signal?: AbortSignal}} [options] max: the most
   *   users to read (default MAX_MEMBERS_PAGES * MAX_MEMBERS_LIMIT)
   * @returns {Promise<Member[]>}
   */
  async members(roomId, options = {}) {
    checkRoomId(roomId);
    const { max = MAX_MEMBERS_PAGES * MAX_MEMBERS_LIMIT, signal } = options;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`chat: members max (${max}) must be a whole number from 1`);
    /** @type {Member[]} */
    const out = [];
    /** @type {string | undefined} */
    let cursor;
    for (let page = 0; page < MAX_MEMBERS_PAGES && out.length < max; page++) {
      const limit = Math.min(MAX_MEMBERS_LIMIT, max - out.length);
      const body = JSON.stringify({ action: "members", roomId, limit, cursor });
      /** @type {MemberList} */
      const list = await this.roomLocks(roomId).members.run(() => this.request({ key: waitKey("members", roomId), body }, signal));
      out.push(...(list.members ?? []).slice(0, max - out.length));
      if (!list.cursor || list.cursor === cursor) break;
      cursor = list.cursor;
    }
    return out;
  }

  /** The rooms joined, in the order they were joined (direct conversations excluded). */
  joinedRooms() {
    return [...this.rooms.keys()].filter((id) => !isConversation(id));
  }

  /** The direct conversations the client tracks (see direct()), in the order it saw them. */
  conversations() {
    return [...this.rooms.keys()].filter(isConversation);
  }

  /**
   * The conversation roomId, tracked from now on when it was not: its first delivered
   * message is seq (the one just seen).
   * @param {string} roomId @param {number} seq
   */
  conversation(roomId, seq) {
    let r = this.rooms.get(roomId);
    if (!r) {
      this.rooms.set(roomId, (r = new Room(roomId)));
      r.seq.base(Math.max(seq, 1) - 1);
    }
    return r;
  }

  /** @param {Room} r */
  dropRoom(r) {
    if (this.rooms.get(r.id) === r) this.rooms.delete(r.id);
    r.stopTimer();
  }

  // Frames.

  /** Acts on one frame received on cn. @param {Connection} cn @param {string} data */
  handle(cn, data) {
    /** @type {any} */
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      this.logger.warn("chat: frame is not JSON", { frame: data.slice(0, 128) });
      return;
    }
    if (f === null || typeof f !== "object") return;
    switch (f.type) {
      case undefined:
        // API Gateway's own error frame: it names no request, which is sent again after requestTimeout.
        this.logger.warn("chat: gateway error", { message: f.message, requestId: f.requestId });
        this.emit("gatewayerror", { message: String(f.message ?? ""), requestId: f.requestId });
        return;
      case "message":
      case "resume":
      case "lost":
      case "presence":
        this.handleRoomFrame(f);
        return;
      case "joined": {
        const r = this.rooms.get(f.roomId);
        if (r) this.deliver(r, true, (s) => s.base(f.lastSeq));
        cn.answer(waitKey("joined", f.roomId), { frame: f });
        return;
      }
      case "ack":
        this.handleAck(cn, f);
        return;
      case "left":
      case "history":
      case "members":
        cn.answer(waitKey(f.type, f.roomId), { frame: f });
        return;
      case "event":
        this.emit("event", f);
        return;
      case "pong":
        cn.gotPong();
        return;
      case "error": {
        const key = waitKey(answerTypes[f.action] ?? "", f.roomId, f.clientMessageId);
        if (!cn.answer(key, { error: f })) this.logger.warn("chat: error frame for no request", { code: f.code, message: f.message, action: f.action });
        return;
      }
      default:
        this.logger.debug?.("chat: frame of unknown type ignored", { type: f.type });
    }
  }

  /**
   * A message, resume page, lost range or presence of a joined room, or a message of a direct
   * conversation (tracked from its first message on); others are ignored.
   * @param {any} f
   */
  handleRoomFrame(f) {
    let r = this.rooms.get(f.roomId);
    if (!r && f.type === "message" && isConversation(f.roomId) && Number.isSafeInteger(f.seq)) r = this.conversation(f.roomId, f.seq);
    if (!r) return;
    switch (f.type) {
      case "message":
        this.deliver(r, false, (s) => s.add(f));
        return;
      case "resume":
        this.deliver(r, false, (s) => (f.messages ?? []).flatMap((/** @type {Message} */ m) => s.add(m)));
        return;
      case "lost":
        this.deliver(r, false, (s) => s.lost(f.from, f.to, f.message ?? ""));
        return;
      case "presence":
        this.emit("presence", f);
    }
  }

  /** Places the client's own message in its room's order, then answers the send. @param {Connection} cn @param {Ack} ack */
  handleAck(cn, ack) {
    const direct = ack.toUserId !== undefined || isConversation(ack.roomId);
    const text = ack.clientMessageId === undefined ? undefined : this.sends.get(ack.clientMessageId);
    let r = this.rooms.get(ack.roomId);
    if (!r && direct && text !== undefined) r = this.conversation(ack.roomId, ack.seq);
    if (r) {
      this.deliver(r, false, (s) => {
        if (text === undefined) {
          s.saw(ack.seq);
          return [];
        }
        /** @type {Message} */
        const m = { type: "message", roomId: ack.roomId, seq: ack.seq, messageId: ack.messageId, userId: ack.userId, displayName: ack.displayName, text, sentAt: ack.sentAt };
        if (ack.toUserId !== undefined) m.toUserId = ack.toUserId;
        return s.add(m);
      });
    }
    cn.answer(waitKey("ack", direct ? "" : ack.roomId, ack.clientMessageId), { frame: ack });
  }

  /**
   * Runs step on r's sequencer and emits what became deliverable, in order. Then, while a
   * message is missing, arranges to read it from history: at once when fillNow (a joined
   * frame said the replay is over), else after gapTimeout.
   * @param {Room} r @param {boolean} fillNow @param {(s: Sequencer) => Delivery[]} step
   */
  deliver(r, fillNow, step) {
    for (const d of step(r.seq)) {
      if (this.rooms.get(r.id) !== r) break;
      if (d.kind === "message") this.emit("message", d.message);
      else this.emit("lost", d.lost);
    }
    if (!r.seq.missing()) {
      r.stopTimer();
      return;
    }
    if (r.filling) return;
    if (fillNow) this.startFill(r);
    else if (r.gapTimer === undefined) r.gapTimer = setTimeout(() => this.gapTimedOut(r), this.opts.gapTimeout);
  }

  /** @param {Room} r */
  gapTimedOut(r) {
    r.gapTimer = undefined;
    if (r.seq.missing() && !r.filling && !this.closed) this.startFill(r);
  }

  /** @param {Room} r */
  startFill(r) {
    r.stopTimer();
    r.filling = true;
    void this.fill(r).finally(() => {
      r.filling = false;
      if (r.seq.missing() && r.gapTimer === undefined && !this.closed && this.rooms.get(r.id) === r) {
        r.gapTimer = setTimeout(() => this.gapTimedOut(r), this.opts.gapTimeout);
      }
    });
  }

  /**
   * Reads history pages after r's last delivered seq until nothing known is missing or the
   * history has no more.
   * @param {Room} r
   */
  async fill(r) {
    await this.roomLocks(r.id).history.run(async () => {
      for (;;) {
        const after = r.seq.since();
        if (this.rooms.get(r.id) !== r || after === undefined || this.closed) return;
        /** @type {HistoryPage} */
        let page;
        try {
          page = await this.request({ key: waitKey("history", r.id), body: JSON.stringify({ action: "history", roomId: r.id, limit: MAX_HISTORY_LIMIT, after }) });
        } catch (err) {
          if (!this.closed) this.logger.warn("chat: gap fill failed", { room: r.id, after, error: String(err) });
          return;
        }
        let missing = false;
        this.deliver(r, false, (s) => {
          /** @type {Delivery[]} */
          const out = page.lost ? s.lost(page.lost.from, page.lost.to, "") : [];
          for (const m of page.messages ?? []) out.push(...s.add(m));
          missing = s.missing();
          return out;
        });
        if (!page.hasMore || !missing) return;
      }
    });
  }
}

/** @param {string} roomId @param {number} [since] @returns {Request} */
function joinRequest(roomId, since) {
  return { key: waitKey("joined", roomId), body: JSON.stringify({ action: "joinroom", roomId, since }) };
}

/** 128 random bits in hex. */
function newClientMessageId() {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Creates a client and makes its first connection (see ChatClient.connect). Listeners added
 * after it resolves miss the first "connected" state event only.
 * @param {string} url @param {Options} options @returns {Promise<ChatClient>}
 */
export async function dial(url, options) {
  const c = new ChatClient(url, options);
  await c.connect();
  return c;
}
