// A scripted WebSocket server (RFC 6455 on node:http's upgrade, text frames only) that stands
// in for API Gateway in the client's unit tests: it can refuse a handshake with an HTTP
// status as API Gateway refuses a token (before the upgrade), echo the chat subprotocol, close
// with a code, or drop the TCP connection as a lost network does.

import { createHash } from "node:crypto";
import { createServer } from "node:http";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** One server-side WebSocket connection. */
export class ServerConn {
  constructor(socket, info) {
    this.socket = socket;
    this.info = info; // {url, protocols, token}
    this.buf = Buffer.alloc(0);
    this.fragments = [];
    this.closed = false;
    this.onText = () => {};
    this.onClose = () => {};
    socket.on("data", (d) => this.read(d));
    socket.on("close", () => this.ended());
    socket.on("error", () => this.ended());
  }

  ended() {
    if (this.closed) return;
    this.closed = true;
    this.closedAt = Date.now();
    this.onClose();
  }

  read(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const opcode = this.buf[0] & 0x0f;
      const masked = (this.buf[1] & 0x80) !== 0;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= this.buf[maskOff + (i % 4)];
      this.buf = this.buf.subarray(off + len);
      if (opcode === 0x8) {
        if (!this.closed) this.frame(0x8, payload.subarray(0, 2));
        this.socket.end();
        this.ended();
        return;
      }
      if (opcode === 0x9) {
        this.frame(0xa, payload);
        continue;
      }
      if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(this.fragments).toString("utf8");
          this.fragments = [];
          this.onText(text);
        }
      }
    }
  }

  frame(opcode, payload) {
    if (this.socket.destroyed) return;
    const len = payload.length;
    let head;
    if (len < 126) head = Buffer.from([0x80 | opcode, len]);
    else if (len < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  /** Sends a frame: an object is sent as JSON. */
  send(frame) {
    this.frame(0x1, Buffer.from(typeof frame === "string" ? frame : JSON.stringify(frame), "utf8"));
  }

  /** Closes with a close frame (code, reason), as API Gateway does at its caps. */
  close(code = 1000, reason = "") {
    const p = Buffer.alloc(2 + Buffer.byteLength(reason));
    p.writeUInt16BE(code, 0);
    p.write(reason, 2);
    this.frame(0x8, p);
    this.socket.end();
  }

  /** Ends the TCP connection without a close frame, as a lost network does (1006). */
  drop() {
    this.socket.destroy();
    this.ended();
  }
}

/**
 * Starts a server on a free loopback port. authorize(info) returns the HTTP status of the
 * handshake: 101 accepts, anything else (401, 403, 503, ...) is answered before the upgrade.
 * onConnection(conn) runs for each accepted connection.
 */
export async function startServer({ authorize = () => 101, onConnection = () => {} } = {}) {
  const handshakes = [];
  const conns = [];
  const server = createServer((_, res) => {
    res.writeHead(426, { "Content-Type": "application/json" });
    res.end('{"message":"upgrade required"}');
  });
  server.on("upgrade", (req, socket) => {
    const url = new URL(req.url, "http://localhost");
    const protocols = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const bearer = protocols.find((p) => p.startsWith("bearer."));
    const info = { url, protocols, token: url.searchParams.get("token") ?? bearer?.slice("bearer.".length), at: Date.now() };
    handshakes.push(info);
    const status = authorize(info);
    if (status !== 101) {
      const body = status === 401 ? '{"message":"Unauthorized"}' : '{"message":"Forbidden"}';
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const accept = createHash("sha1").update(req.headers["sec-websocket-key"] + GUID).digest("base64");
    const lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${accept}`];
    if (protocols.includes("chat.v1")) lines.push("Sec-WebSocket-Protocol: chat.v1");
    socket.write(lines.join("\r\n") + "\r\n\r\n");
    const conn = new ServerConn(socket, info);
    conns.push(conn);
    onConnection(conn);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `ws://127.0.0.1:${port}/prod`,
    handshakes,
    conns,
    async close() {
      for (const c of conns) c.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
