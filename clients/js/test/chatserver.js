// The chat protocol on the scripted WebSocket server, as the real handlers answer it (rooms
// numbered 1, 2, 3, ..., resume with since, acks, clientMessageId dedupe, history pages,
// pings answered by the gateway), with hooks for tests to intercept frames.

import { createHash } from "node:crypto";

import { startServer } from "./wsserver.js";

/** The user of a connection: its token's sub. */
export function userOf(conn) {
  try {
    return JSON.parse(Buffer.from(String(conn.info.token).split(".")[1], "base64url").toString()).sub ?? "alice";
  } catch {
    return "alice";
  }
}

/** protocol.ConversationID. */
export function conversationId(a, b) {
  if (b < a) [a, b] = [b, a];
  return "dm:" + createHash("sha256").update(`${Buffer.byteLength(a)}:${a}${b}`).digest("hex").slice(0, 40);
}

export async function startChat({ authorize, intercept = () => false, noPong = () => false } = {}) {
  const rooms = new Map(); // id -> {messages: [], members: Set<conn>}
  const acks = new Map(); // roomId/cmid -> ack
  const received = []; // {conn, frame, at}
  const conns = new Set(); // every connection ever accepted
  const room = (id) => {
    if (!rooms.has(id)) rooms.set(id, { messages: [], members: new Set() });
    return rooms.get(id);
  };
  const chat = {
    received,
    rooms,
    /** Stores a message from someone else and delivers it to members unless quiet. */
    store(roomId, text, { userId = "bob", deliver = true } = {}) {
      const r = room(roomId);
      const m = { type: "message", roomId, seq: r.messages.length + 1, messageId: `m${r.messages.length + 1}`, userId, displayName: userId, text, sentAt: new Date().toISOString() };
      r.messages.push(m);
      if (deliver) for (const c of r.members) c.send(m);
      return m;
    },
    /** Stores a direct message and delivers it to every connection of both users (but except's) unless quiet. */
    storeDirect(from, to, text, { deliver = true, except } = {}) {
      const id = conversationId(from, to);
      const r = room(id);
      const m = { type: "message", roomId: id, seq: r.messages.length + 1, messageId: `m${r.messages.length + 1}`, userId: from, displayName: from, toUserId: to, text, sentAt: new Date().toISOString() };
      r.messages.push(m);
      if (deliver) for (const c of conns) if (!c.closed && c !== except && (userOf(c) === from || userOf(c) === to)) c.send(m);
      return m;
    },
    answer(conn, f) {
      switch (f.action) {
        case "ping":
          if (!noPong(conn)) conn.send({ type: "pong" });
          return;
        case "joinroom": {
          const r = room(f.roomId);
          r.members.add(conn);
          if (f.since !== undefined && r.messages.length > f.since) {
            conn.send({ type: "resume", roomId: f.roomId, messages: r.messages.slice(f.since) });
          }
          conn.send({ type: "joined", roomId: f.roomId, lastSeq: r.messages.length });
          return;
        }
        case "leaveroom":
          room(f.roomId).members.delete(conn);
          conn.send({ type: "left", roomId: f.roomId });
          return;
        case "sendmessage": {
          const key = f.roomId + "/" + f.clientMessageId;
          if (acks.has(key)) {
            conn.send({ ...acks.get(key), duplicate: true, delivered: 0 });
            return;
          }
          const r = room(f.roomId);
          const seq = r.messages.length + 1;
          const m = { type: "message", roomId: f.roomId, seq, messageId: `m${seq}`, userId: "alice", displayName: "Alice", text: f.text, sentAt: new Date().toISOString() };
          r.messages.push(m);
          for (const c of r.members) if (c !== conn) c.send(m);
          const ack = { type: "ack", roomId: f.roomId, seq, messageId: m.messageId, clientMessageId: f.clientMessageId, userId: "alice", displayName: "Alice", sentAt: m.sentAt, delivered: r.members.size - 1, undelivered: 0, gone: 0 };
          acks.set(key, ack);
          conn.send(ack);
          return;
        }
        case "direct": {
          const from = userOf(conn);
          if (![...conns].some((c) => userOf(c) === f.toUserId)) {
            conn.send({ type: "error", code: "unknown_user", message: "no such user", action: "direct", clientMessageId: f.clientMessageId });
            return;
          }
          const key = conversationId(from, f.toUserId) + "/" + f.clientMessageId;
          if (acks.has(key)) {
            conn.send({ ...acks.get(key), duplicate: true, delivered: 0 });
            return;
          }
          const m = chat.storeDirect(from, f.toUserId, f.text, { except: conn });
          const ack = { type: "ack", roomId: m.roomId, seq: m.seq, messageId: m.messageId, clientMessageId: f.clientMessageId, userId: from, displayName: from, toUserId: f.toUserId, sentAt: m.sentAt, delivered: 1, undelivered: 0, gone: 0 };
          acks.set(key, ack);
          conn.send(ack);
          return;
        }
        case "members": {
          // Pages of 2 users (whatever the limit, so that a few users make several pages); the cursor is an index.
          const r = room(f.roomId);
          if (!r.members.has(conn)) {
            conn.send({ type: "error", code: "not_member", message: "join the room first", action: "members", roomId: f.roomId });
            return;
          }
          const counts = new Map();
          for (const c of r.members) counts.set(userOf(c), (counts.get(userOf(c)) ?? 0) + 1);
          const users = [...counts.keys()].sort();
          const from = Number(f.cursor ?? 0);
          const to = Math.min(users.length, from + Math.min(2, f.limit ?? 50));
          const members = users.slice(from, to).map((u) => ({ userId: u, displayName: u, connections: counts.get(u) }));
          conn.send({ type: "members", roomId: f.roomId, members, ...(to < users.length ? { cursor: String(to) } : {}) });
          return;
        }
        case "history": {
          const r = room(f.roomId);
          const limit = f.limit ?? 20;
          let page;
          if (f.after !== undefined) {
            const msgs = r.messages.slice(f.after, f.after + limit);
            const hasMore = f.after + limit < r.messages.length;
            page = { type: "history", roomId: f.roomId, messages: msgs, hasMore, lastSeq: r.messages.length, ...(hasMore ? { after: msgs.at(-1).seq } : {}) };
          } else {
            const end = f.before !== undefined ? f.before - 1 : r.messages.length;
            const start = Math.max(0, end - limit);
            const msgs = r.messages.slice(start, end);
            page = { type: "history", roomId: f.roomId, messages: msgs, hasMore: start > 0, lastSeq: r.messages.length, ...(start > 0 ? { before: msgs[0].seq } : {}) };
          }
          conn.send(page);
          return;
        }
        default:
          conn.send({ type: "error", code: "unknown_action", message: `unknown action ${f.action}`, action: f.action });
      }
    },
  };
  const server = await startServer({
    authorize,
    onConnection(conn) {
      conns.add(conn);
      conn.onText = (text) => {
        const frame = JSON.parse(text);
        received.push({ conn, frame, at: Date.now() });
        if (!intercept(conn, frame, chat)) chat.answer(conn, frame);
      };
      conn.onClose = () => {
        for (const r of rooms.values()) r.members.delete(conn);
      };
    },
  });
  return Object.assign(chat, server);
}

/** Waits until pred() is truthy (polling), or fails after ms naming what. */
export async function waitFor(pred, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A JWT-shaped token (unsigned: the scripted server does not verify) with the given exp. */
export function fakeJWT(exp, sub = "alice") {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ sub, exp })}.c2ln`;
}
