// @ts-check
// One WebSocket connection: its opening, heartbeat and in-flight requests.

import { ConnectionLostError, HandshakeError } from "./errors.js";

/** The heartbeat, answered {"type":"pong"} by API Gateway itself (a MOCK route). */
export const PING_BODY = JSON.stringify({ action: "ping" });

/** WebSocket.OPEN */
const OPEN = 1;

/**
 * An answer to a request: its answer frame, or the error frame naming it.
 * @typedef {{frame: any, error?: undefined} | {frame?: undefined, error: {code: string, message: string, action?: string, roomId?: string, clientMessageId?: string}}} Answer
 */

/**
 * @typedef {object} ConnectionHost what a connection needs of its client
 * @property {(cn: Connection, data: string) => void} handle
 * @property {{heartbeatInterval: number, pongTimeout: number, requestTimeout: number}} opts
 * @property {import("./types.js").Logger} logger
 */

export class Connection {
  /** @param {ConnectionHost} host @param {WebSocket} ws */
  constructor(host, ws) {
    this.host = host;
    this.ws = ws;
    this.isOpen = false;
    this.dead = false;
    /** Why the connection ended, once dead. @type {Error | undefined} */
    this.cause = undefined;
    /** @type {Map<string, (a: Answer) => void>} */
    this.waiters = new Map();
    /** @type {Set<(err: Error) => void>} */
    this.deathWatchers = new Set();
    this.lastWrite = Date.now();
    this.pings = 0;
    this.pongs = 0;
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.timers = new Set();
    /** @type {(err: Error) => void} */
    let fail = () => {};
    /** Settles when the handshake opens (or fails before: a HandshakeError). @type {Promise<void>} */
    this.opened = new Promise((resolve, reject) => {
      fail = reject;
      ws.addEventListener("open", () => {
        this.isOpen = true;
        this.lastWrite = Date.now();
        resolve();
      });
    });
    /** Settles with the cause when the connection ends. @type {Promise<Error>} */
    this.done = new Promise((resolve) => this.deathWatchers.add(resolve));
    const handshake = setTimeout(() => {
      fail(new HandshakeError(`the handshake did not complete within requestTimeout (${host.opts.requestTimeout} ms)`, 0));
      this.kill(new ConnectionLostError("handshake timed out"));
    }, host.opts.requestTimeout);
    this.opened.then(() => clearTimeout(handshake), () => clearTimeout(handshake));
    ws.addEventListener("message", (ev) => {
      if (this.dead) return;
      if (typeof ev.data !== "string") {
        host.logger.warn("chat: binary frame ignored");
        return;
      }
      host.handle(this, ev.data);
    });
    /** @param {number} code */
    const refused = (code) => {
      fail(new HandshakeError(
        `the connection closed before it opened (code ${code}): the server refused the token (HTTP 401 or 403) or cannot be reached`,
        code,
      ));
      this.kill(new ConnectionLostError(`closed before it opened (${code})`, code));
    };
    ws.addEventListener("close", (ev) => {
      if (!this.isOpen) return refused(ev.code);
      const reason = ev.reason ? ` ${ev.reason}` : "";
      this.kill(new ConnectionLostError(`connection lost: closed (${ev.code}${reason})`, ev.code));
    });
    // Browsers follow an error with a close event; Node 20's WebSocket (undici) reports a
    // refused handshake with an error alone, and stays CONNECTING.
    ws.addEventListener("error", () => {
      if (!this.isOpen) return refused(1006);
      // A close event follows in browsers (with its code); do not wait for one that may not.
      setTimeout(() => this.kill(new ConnectionLostError("connection lost: closed (1006)", 1006)), 50);
    });
  }

  /** Starts the heartbeat. */
  start() {
    this.after(this.host.opts.heartbeatInterval, () => this.beat());
  }

  /** Runs f after ms unless the connection dies first. @param {number} ms @param {() => void} f */
  after(ms, f) {
    if (this.dead) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.dead) f();
    }, ms);
    this.timers.add(t);
  }

  /** Ends the connection at once; err says why. @param {Error} err */
  kill(err) {
    if (this.dead) return;
    this.dead = true;
    this.cause = err;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    try {
      this.ws.close();
    } catch {
      // already closing
    }
    for (const w of this.deathWatchers) w(err);
    this.deathWatchers.clear();
  }

  /** Ends the connection with a close handshake (1000); err says why. @param {Error} err */
  closeNormally(err) {
    try {
      if (this.isOpen) this.ws.close(1000);
    } catch {
      // already closing
    }
    this.kill(err);
  }

  /** Sends one text message; a failing write kills the connection. @param {string} body */
  write(body) {
    if (this.dead) throw this.cause;
    if (this.ws.readyState !== OPEN) {
      const err = new ConnectionLostError("connection lost: the socket is not open");
      this.kill(err);
      throw err;
    }
    this.lastWrite = Date.now();
    try {
      this.ws.send(body);
    } catch (e) {
      const err = new ConnectionLostError(`connection lost: write failed: ${e instanceof Error ? e.message : String(e)}`);
      this.kill(err);
      throw err;
    }
  }

  /** Runs every heartbeatInterval of silence: sends a ping when nothing was written for that long. */
  beat() {
    const interval = this.host.opts.heartbeatInterval;
    const idle = Date.now() - this.lastWrite;
    if (idle < interval) {
      this.after(interval - idle, () => this.beat());
      return;
    }
    this.ping();
    this.after(interval, () => this.beat());
  }

  /** Sends a ping and arms the check of its pong. */
  ping() {
    const n = ++this.pings;
    try {
      this.write(PING_BODY);
    } catch {
      return;
    }
    this.after(this.host.opts.pongTimeout, () => {
      if (this.pongs < n) this.kill(new ConnectionLostError("connection lost: no pong to a heartbeat ping"));
    });
  }

  /** Pings unless a ping already awaits its pong: a request without answer may mean a silently dropped connection. */
  probe() {
    if (this.pongs >= this.pings) this.ping();
  }

  gotPong() {
    this.pongs++;
  }

  /**
   * Sends body and waits for the answer keyed key: its frame, the error frame naming it, or
   * a rejection when the connection ends, requestTimeout passes (a TimeoutError) or signal aborts.
   * @param {string} key @param {string} body @param {AbortSignal} [signal] @returns {Promise<Answer>}
   */
  roundTrip(key, body, signal) {
    if (this.waiters.has(key)) return Promise.reject(new Error(`chat: the same request is already in flight (${key})`));
    return new Promise((resolve, reject) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let timer;
      /** @param {() => void} f */
      const finish = (f) => {
        this.waiters.delete(key);
        this.deathWatchers.delete(onDeath);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        f();
      };
      /** @param {Error} err */
      const onDeath = (err) => finish(() => reject(err));
      const onAbort = () => finish(() => reject(signal?.reason));
      this.waiters.set(key, (a) => finish(() => resolve(a)));
      if (this.dead) return onDeath(/** @type {Error} */ (this.cause));
      this.deathWatchers.add(onDeath);
      signal?.addEventListener("abort", onAbort);
      try {
        this.write(body);
      } catch (e) {
        return finish(() => reject(e));
      }
      timer = setTimeout(() => finish(() => reject(new TimeoutError(this.host.opts.requestTimeout))), this.host.opts.requestTimeout);
    });
  }

  /** Hands a frame to the request waiting for key; reports whether one was. @param {string} key @param {Answer} a */
  answer(key, a) {
    const w = this.waiters.get(key);
    if (w) w(a);
    return w !== undefined;
  }
}

/** No answer within requestTimeout: the request is sent again. */
export class TimeoutError extends Error {
  /** @param {number} ms */
  constructor(ms) {
    super(`no answer within requestTimeout (${ms} ms)`);
    this.name = "TimeoutError";
  }
}

/**
 * The key that matches an answer (or error frame) to its request: the answer's frame type, the
 * room and, for sendmessage, the clientMessageId.
 * @param {string} type @param {string} [room] @param {string} [cmid]
 */
export function waitKey(type, room = "", cmid = "") {
  return `${type}\u0000${room}\u0000${cmid}`;
}
