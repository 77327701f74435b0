// The client against a scripted server (test/chatserver.js): backoff bounds, heartbeat
// timing, the resume seam, queued sends, proactive replacement, refused tokens and limits.
// Node 20 runs it with --experimental-websocket (its WebSocket is undici's, as Node 22's).

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import {
  AuthError, ChatClient, HandshakeError, LimitError, MAX_TEXT_LENGTH, ServerError,
  backoffCeiling, backoffDelay, tokenExpiry,
} from "../src/index.js";
import { conversationId, fakeJWT, startChat, userOf, waitFor } from "./chatserver.js";

const cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()();
});

/** A client of server with short timings; records its events. */
function newClient(server, options = {}) {
  const c = new ChatClient(server.url, {
    token: () => fakeJWT(Math.floor(Date.now() / 1000) + 3600),
    WebSocket: globalThis.WebSocket,
    minBackoff: 10, maxBackoff: 40, requestTimeout: 2000, gapTimeout: 100,
    ...options,
  });
  const events = { message: [], state: [], lost: [], presence: [], roomerror: [], event: [] };
  for (const name of Object.keys(events)) c.on(name, (e) => events[name].push(e));
  cleanups.push(() => c.close());
  return { c, events };
}

async function chat(options) {
  const s = await startChat(options);
  cleanups.push(() => s.close());
  return s;
}

const seqs = (msgs) => msgs.map((m) => m.seq);
const framesOf = (s, action) => s.received.filter((r) => r.frame.action === action);

describe("backoff", () => {
  test("ceilings double from minBackoff and stop at maxBackoff", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 30].map((n) => backoffCeiling(n, 500, 30000)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  test("full jitter: every delay is in [0, ceiling], both ends reachable", () => {
    for (let n = 0; n < 12; n++) {
      const c = backoffCeiling(n, 500, 30000);
      assert.equal(backoffDelay(n, 500, 30000, () => 0), 0);
      assert.equal(backoffDelay(n, 500, 30000, () => 0.9999999999), c);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(n, 500, 30000);
        assert.ok(Number.isInteger(d) && d >= 0 && d <= c, `attempt ${n}: ${d} outside [0, ${c}]`);
      }
    }
  });
  test("reconnect attempts are spaced by the jittered backoff, capped", async () => {
    let refuse = false;
    const s = await chat({ authorize: () => (refuse ? 503 : 101) });
    // random() = 1-ε gives each attempt its ceiling: 200, 400, 800, 800, 800 ms (uncapped,
    // the last two would be 1600 and 3200).
    const { c } = newClient(s, { minBackoff: 200, maxBackoff: 800, random: () => 0.9999999 });
    const failedAt = [];
    c.on("state", (e) => e.state === "reconnecting" && e.error && failedAt.push(Date.now()));
    await c.connect();
    refuse = true;
    s.conns[0].drop();
    await waitFor(() => s.handshakes.length >= 7, "six reconnect attempts", 15000);
    // From each failed attempt (as the client saw it) to the next handshake (as the server did).
    const at = s.handshakes.map((h) => h.at);
    const gaps = at.slice(2, 7).map((t, i) => t - failedAt[i + 1]);
    const want = [200, 400, 800, 800, 800];
    // Never sooner than the wait; later only by the machine's latency, never by a doubling.
    gaps.forEach((g, i) => assert.ok(g >= want[i] - 2 && g < want[i] + 600, `wait ${i + 1}: ${g} ms, want ${want[i]} ms: ${gaps}`));
  });
});

describe("heartbeat", () => {
  test("a ping after heartbeatInterval without sending, never sooner; sends push it back", async () => {
    const s = await chat();
    const { c } = newClient(s, { heartbeatInterval: 300 });
    await c.connect();
    const opened = Date.now();
    // Times on one clock: the client writes the join after joinCalled, and each ping leaves
    // after its wait and reaches the server after that; the server's own receipt times would
    // let a delayed join frame make a punctual ping look early.
    const joinCalled = Date.now();
    await c.join("general");
    const ping = await waitFor(() => framesOf(s, "ping")[0], "the first ping", 3000);
    assert.ok(ping.at - joinCalled >= 298, `first ping ${ping.at - joinCalled} ms after the last send, want ≥ 300`);
    assert.ok(ping.at - opened < 2 * 300 + 500, `first ping ${ping.at - opened} ms after open: too late`);
    const second = await waitFor(() => framesOf(s, "ping")[1], "the second ping", 3000);
    assert.ok(second.at - joinCalled >= 598, `second ping ${second.at - joinCalled} ms after the last send, want ≥ 600`);
    assert.ok(second.at - ping.at < 300 + 500, `pings ${second.at - ping.at} ms apart, want 300`);
    assert.equal(c.state, "connected");
  });

  test("no pong within pongTimeout: the connection counts lost and the client reconnects", async () => {
    let first = true;
    const s = await chat({ noPong: () => first });
    const { c, events } = newClient(s, { heartbeatInterval: 100, pongTimeout: 150 });
    const beforeConnect = Date.now();
    await c.connect();
    await waitFor(() => events.state.some((e) => e.state === "reconnecting"), "reconnecting", 3000);
    first = false;
    const lost = events.state.find((e) => e.state === "reconnecting");
    assert.match(lost.error.message, /no pong/);
    assert.ok(framesOf(s, "ping").some((r) => r.conn === s.conns[0]), "pings went unanswered on the first connection");
    await waitFor(() => s.handshakes.length === 2 && c.state === "connected", "the new connection", 3000);
    // The ping left ≥ heartbeatInterval after the open, the connection died ≥ pongTimeout later.
    assert.ok(s.handshakes[1].at - beforeConnect >= 248, `reconnected ${s.handshakes[1].at - beforeConnect} ms after connect(), want ≥ 250`);
  });
});

describe("resume", () => {
  test("after a drop: since = the last delivered seq, duplicates dropped, gaps filled from history", async () => {
    const s = await chat();
    const { c, events } = newClient(s);
    await c.connect();
    await c.join("general");
    for (let i = 1; i <= 3; i++) s.store("general", `m${i}`);
    await waitFor(() => events.message.length === 3, "messages 1-3");
    // The network drops; messages 4 and 5 are stored meanwhile.
    s.conns[0].drop();
    s.store("general", "m4", { deliver: false });
    s.store("general", "m5", { deliver: false });
    await waitFor(() => s.conns.length === 2 && framesOf(s, "joinroom").length === 2, "the rejoin");
    assert.equal(framesOf(s, "joinroom")[1].frame.since, 3);
    // 6 comes live before the replay is over, and again in the replay (both ways at the seam);
    // 8 comes live while 7 reached no one: a gap the client fills with history after.
    await waitFor(() => c.state === "connected", "connected");
    const conn = s.conns[1];
    const m6 = s.store("general", "m6", { deliver: false });
    conn.send(m6);
    conn.send({ type: "resume", roomId: "general", messages: [m6] });
    s.store("general", "m7", { deliver: false });
    s.store("general", "m8");
    await waitFor(() => events.message.length === 8, "messages 1-8", 5000);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(seqs(events.message), [1, 2, 3, 4, 5, 6, 7, 8]);
    const fill = framesOf(s, "history").at(-1).frame;
    assert.equal(fill.after, 6, "the gap is read from history after the last delivered seq");
  });

  test("a lost range is reported once and delivery goes on after it", async () => {
    const s = await chat({
      intercept(conn, f) {
        if (f.action !== "joinroom" || f.since === undefined) return false;
        conn.send({ type: "lost", roomId: f.roomId, from: 3, to: 4, message: "past history retention" });
        conn.send({ type: "resume", roomId: f.roomId, messages: s.rooms.get(f.roomId).messages.slice(4) });
        conn.send({ type: "joined", roomId: f.roomId, lastSeq: s.rooms.get(f.roomId).messages.length });
        return true;
      },
    });
    const { c, events } = newClient(s);
    await c.connect();
    await c.join("r1");
    s.store("r1", "1");
    s.store("r1", "2");
    await waitFor(() => events.message.length === 2, "1-2");
    s.conns[0].drop();
    for (const t of ["3", "4", "5"]) s.store("r1", t, { deliver: false });
    await waitFor(() => events.message.length === 3, "5");
    assert.deepEqual(seqs(events.message), [1, 2, 5]);
    assert.deepEqual(events.lost, [{ roomId: "r1", from: 3, to: 4, reason: "past history retention" }]);
  });
});

describe("sends", () => {
  test("a send without answer is sent again after a reconnect with the same clientMessageId, delivered once", async () => {
    let swallow = true;
    const s = await chat({
      intercept(conn, f) {
        if (f.action === "sendmessage" && swallow) {
          swallow = false;
          conn.drop(); // the send reached nobody's answer: the network dropped
          return true;
        }
        return false;
      },
    });
    const { c, events } = newClient(s);
    await c.connect();
    await c.join("general");
    const ack = await c.send("general", "hello");
    const sends = framesOf(s, "sendmessage");
    assert.equal(sends.length, 2);
    assert.equal(sends[0].frame.clientMessageId, sends[1].frame.clientMessageId);
    assert.notEqual(sends[0].conn, sends[1].conn);
    assert.equal(ack.clientMessageId, sends[0].frame.clientMessageId);
    assert.deepEqual(events.message.map((m) => m.text), ["hello"]);
  });

  test("sends made while disconnected are queued and go out once connected, each once", async () => {
    let refuse = false;
    const s = await chat({ authorize: () => (refuse ? 503 : 101) });
    const { c, events } = newClient(s, { minBackoff: 50, maxBackoff: 50 });
    await c.connect();
    await c.join("general");
    refuse = true;
    s.conns[0].drop();
    await waitFor(() => c.state === "reconnecting", "reconnecting");
    const pending = [c.send("general", "one"), c.send("general", "two")];
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(framesOf(s, "sendmessage").length, 0, "nothing is sent without a connection");
    refuse = false;
    const acks = await Promise.all(pending);
    assert.deepEqual(acks.map((a) => a.seq).sort(), [1, 2]);
    assert.equal(framesOf(s, "sendmessage").length, 2);
    assert.deepEqual(events.message.map((m) => m.text).sort(), ["one", "two"]);
  });

  test("a retried send answered as a duplicate is delivered once", async () => {
    let first = true;
    const s = await chat({
      intercept(conn, f, chat) {
        if (f.action === "sendmessage" && first) {
          first = false;
          chat.answer({ send() {} }, f); // stored, but its ack is lost
          conn.drop();
          return true;
        }
        return false;
      },
    });
    const { c, events } = newClient(s);
    await c.connect();
    await c.join("general");
    const ack = await c.send("general", "once");
    assert.equal(ack.duplicate, true);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(events.message.map((m) => [m.seq, m.text]), [[1, "once"]]);
  });

  test("text over MAX_TEXT_LENGTH is refused before sending, naming the limit", async () => {
    const s = await chat();
    const { c } = newClient(s);
    await c.connect();
    await c.join("general");
    await assert.rejects(c.send("general", "x".repeat(MAX_TEXT_LENGTH + 1)), (e) => e instanceof LimitError && e.limit === "MAX_TEXT_LENGTH" && /4001 characters.*4000/.test(e.message));
    // Code points, as the server counts them: 4000 emoji are 8000 UTF-16 units and allowed.
    await c.send("general", "😀".repeat(MAX_TEXT_LENGTH));
    await assert.rejects(c.send("bad room!", "hi"), (e) => e instanceof LimitError && e.limit === "ROOM_ID_PATTERN");
    await assert.rejects(c.send("general", ""), LimitError);
    assert.equal(framesOf(s, "sendmessage").length, 1);
  });

  test("a server error frame rejects the request it names, with the server's words", async () => {
    const s = await chat({
      intercept(conn, f) {
        if (f.action !== "sendmessage") return false;
        conn.send({ type: "error", code: "not_member", message: "join room general first", action: "sendmessage", roomId: f.roomId, clientMessageId: f.clientMessageId });
        return true;
      },
    });
    const { c } = newClient(s);
    await c.connect();
    await assert.rejects(c.send("general", "hi"), (e) => e instanceof ServerError && e.code === "not_member" && e.serverMessage === "join room general first");
  });
});

describe("direct messages", () => {
  /** A client signed in as user. */
  const as = (s, user, options = {}) => newClient(s, { token: () => fakeJWT(Math.floor(Date.now() / 1000) + 3600, user), ...options });

  test("direct() resolves with the conversation's ack; both sides get the message in order without joining", async () => {
    const s = await chat();
    const alice = as(s, "alice");
    const bob = as(s, "bob");
    await alice.c.connect();
    await bob.c.connect();
    const conv = conversationId("alice", "bob");
    const ack = await alice.c.direct("bob", "hi bob");
    assert.equal(ack.roomId, conv);
    assert.equal(ack.toUserId, "bob");
    assert.equal(ack.seq, 1);
    await bob.c.direct("alice", "hi alice");
    for (const { events } of [alice, bob]) {
      await waitFor(() => events.message.length === 2, "two direct messages");
      assert.deepEqual(events.message.map((m) => [m.roomId, m.seq, m.userId, m.toUserId, m.text]), [
        [conv, 1, "alice", "bob", "hi bob"],
        [conv, 2, "bob", "alice", "hi alice"],
      ]);
    }
    assert.deepEqual(alice.c.conversations(), [conv]);
    assert.deepEqual(alice.c.joinedRooms(), []);
    assert.equal(framesOf(s, "joinroom").length, 0, "no join was needed");
  });

  test("a gap in a conversation is filled from history, and the conversation is resumed after a drop", async () => {
    const s = await chat();
    const alice = as(s, "alice");
    const bob = as(s, "bob");
    await alice.c.connect();
    await bob.c.connect();
    const conv = conversationId("alice", "bob");
    await alice.c.direct("bob", "one");
    await waitFor(() => bob.events.message.length === 1, "one");
    s.storeDirect("alice", "bob", "two", { deliver: false });
    s.storeDirect("alice", "bob", "three");
    await waitFor(() => bob.events.message.length === 3, "two from history, three");
    assert.deepEqual(seqs(bob.events.message), [1, 2, 3]);
    const bobConn = s.conns.find((c) => userOf(c) === "bob");
    const fill = framesOf(s, "history").find((r) => r.conn === bobConn).frame;
    assert.deepEqual([fill.roomId, fill.after], [conv, 1]);

    bobConn.drop();
    s.storeDirect("alice", "bob", "four", { deliver: false });
    await waitFor(() => framesOf(s, "joinroom").length === 1, "the resume");
    assert.equal(userOf(framesOf(s, "joinroom")[0].conn), "bob");
    const rejoin = framesOf(s, "joinroom")[0].frame;
    assert.deepEqual([rejoin.roomId, rejoin.since], [conv, 3]);
    await waitFor(() => bob.events.message.length === 4, "four, replayed");
    assert.deepEqual(seqs(bob.events.message), [1, 2, 3, 4]);
  });

  test("a direct message without answer is sent again with the same clientMessageId; unknown users fail for good", async () => {
    let swallow = true;
    const s = await chat({
      intercept(conn, f, chat) {
        if (f.action === "direct" && swallow) {
          swallow = false;
          chat.answer({ send() {}, info: conn.info }, f); // stored and delivered; the ack is lost
          conn.drop();
          return true;
        }
        return false;
      },
    });
    const alice = as(s, "alice");
    const bob = as(s, "bob");
    await bob.c.connect();
    await alice.c.connect();
    const ack = await alice.c.direct("bob", "hello");
    const sends = framesOf(s, "direct");
    assert.equal(sends.length, 2);
    assert.equal(sends[0].frame.clientMessageId, sends[1].frame.clientMessageId);
    assert.equal(ack.duplicate, true);
    await waitFor(() => alice.events.message.length === 1 && bob.events.message.length === 1, "the message on both sides");
    assert.equal(alice.events.message[0].toUserId, "bob");
    await assert.rejects(alice.c.direct("nobody", "hi"), (e) => e instanceof ServerError && e.code === "unknown_user");
    await assert.rejects(alice.c.direct("", "hi"), LimitError);
  });
});

describe("members, events, queued acks", () => {
  test("members() follows the cursor over every page", async () => {
    const s = await chat();
    const clients = [];
    for (const user of ["carol", "alice", "bob"]) {
      const x = newClient(s, { token: () => fakeJWT(Math.floor(Date.now() / 1000) + 3600, user) });
      await x.c.connect();
      await x.c.join("general");
      clients.push(x.c);
    }
    const members = await clients[0].members("general");
    assert.deepEqual(members.map((m) => m.userId), ["alice", "bob", "carol"]);
    assert.equal(framesOf(s, "members").filter((r) => r.frame.cursor).length, 1, "the second page asked with the cursor");
    assert.deepEqual((await clients[0].members("general", { max: 1 })).map((m) => m.userId), ["alice"]);
    await assert.rejects(clients[0].members("elsewhere"), (e) => e instanceof ServerError && e.code === "not_member");
  });

  test("event frames are \"event\" events; stored events are numbered messages; queued acks say so", async () => {
    const s = await chat({
      intercept(conn, f) {
        if (f.action !== "sendmessage") return false;
        const m = s.store(f.roomId, f.text, { userId: "alice", deliver: false });
        conn.send({ type: "ack", roomId: f.roomId, seq: m.seq, messageId: m.messageId, clientMessageId: f.clientMessageId, userId: "alice", sentAt: m.sentAt, delivered: 0, undelivered: 0, gone: 0, queued: true });
        return true;
      },
    });
    const { c, events } = newClient(s);
    await c.connect();
    await c.join("general");
    const sentAt = new Date().toISOString();
    s.conns[0].send({ type: "event", roomId: "general", eventType: "inventory.updated", data: { sku: "a1" }, sentAt });
    s.conns[0].send({ type: "event", eventType: "account.note", data: null, sentAt });
    await waitFor(() => events.event.length === 2, "two events");
    assert.deepEqual(events.event[0], { type: "event", roomId: "general", eventType: "inventory.updated", data: { sku: "a1" }, sentAt });
    assert.equal(events.event[1].roomId, undefined);
    const stored = s.store("general", "", { userId: "system:inventory", deliver: false });
    Object.assign(stored, { system: true, eventType: "inventory.updated", data: { sku: "a2" } });
    s.conns[0].send(stored);
    await waitFor(() => events.message.length === 1, "the stored event");
    assert.deepEqual([events.message[0].seq, events.message[0].system, events.message[0].eventType, events.message[0].data], [1, true, "inventory.updated", { sku: "a2" }]);
    const ack = await c.send("general", "to many");
    assert.equal(ack.queued, true);
    await waitFor(() => events.message.length === 2, "own message from the ack");
  });
});

describe("connection age", () => {
  test("before maxConnectionAge a new connection resumes every room before the old one closes", async () => {
    const s = await chat();
    const { c, events } = newClient(s, { maxConnectionAge: 400 });
    await c.connect();
    await c.join("general");
    s.store("general", "1");
    await waitFor(() => s.conns.length === 2 && s.conns[0].closed, "the replacement", 3000);
    const rejoin = framesOf(s, "joinroom").find((r) => r.conn === s.conns[1]);
    assert.equal(rejoin.frame.since, 1);
    assert.ok(rejoin.at <= s.conns[0].closedAt, "the room was resumed on the new connection before the old one closed");
    assert.equal(s.conns[1].closed, false);
    s.store("general", "2");
    await waitFor(() => events.message.length === 2, "message 2");
    assert.deepEqual(seqs(events.message), [1, 2]);
    assert.ok(!events.state.some((e) => e.state === "reconnecting"), "the state stays connected");
  });
});

describe("tokens", () => {
  test("query string: ?token= on every connection, fresh from the callback", async () => {
    const s = await chat();
    let n = 0;
    const { c } = newClient(s, { token: () => `tok${++n}` });
    await c.connect();
    s.conns[0].drop();
    await waitFor(() => c.state === "connected" && s.handshakes.length === 2, "reconnected");
    assert.deepEqual(s.handshakes.map((h) => h.url.searchParams.get("token")), ["tok1", "tok2"]);
  });

  test("subprotocol: offers chat.v1 and bearer.<token>", async () => {
    const s = await chat();
    const { c } = newClient(s, { token: () => "abc", tokenTransport: "subprotocol" });
    await c.connect();
    assert.deepEqual(s.handshakes[0].protocols, ["chat.v1", "bearer.abc"]);
    assert.equal(s.handshakes[0].url.searchParams.has("token"), false);
  });

  test("a refused token (401 before the upgrade) fails connect once: no reconnect loop", async () => {
    const s = await chat({ authorize: () => 401 });
    const { c, events } = newClient(s);
    await assert.rejects(c.connect(), (e) => e instanceof HandshakeError && /refused the token/.test(e.message));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.handshakes.length, 1);
    assert.equal(c.state, "closed");
    assert.deepEqual(events.state.map((e) => e.state), ["closed"]);
  });

  test("an expired token is refused before connecting, and stops a reconnecting client", async () => {
    const s = await chat();
    const past = Math.floor(Date.now() / 1000) - 60;
    const { c: first } = newClient(s, { token: () => fakeJWT(past) });
    await assert.rejects(first.connect(), (e) => e instanceof AuthError && e.reason === "expired" && /expired at/.test(e.message));
    assert.equal(s.handshakes.length, 0);

    let exp = Math.floor(Date.now() / 1000) + 3600;
    const { c, events } = newClient(s, { token: () => fakeJWT(exp) });
    await c.connect();
    exp = past; // the session ended: the callback can only give an expired token
    s.conns[0].drop();
    await waitFor(() => c.state === "closed", "closed");
    assert.ok(events.state.at(-1).error instanceof AuthError);
    await assert.rejects(c.send("general", "hi"), /client closed: the token expired/);
    assert.equal(s.handshakes.length, 1);
  });

  test("the token callback sees refused handshakes and may stop the client with an AuthError", async () => {
    let refuse = false;
    const s = await chat({ authorize: () => (refuse ? 403 : 101) });
    const seen = [];
    const { c, events } = newClient(s, {
      token: (req) => {
        seen.push(req);
        if (req.refused >= 2) throw new AuthError("refused", "the server keeps refusing the token: sign in again");
        return "t";
      },
    });
    await c.connect();
    refuse = true;
    s.conns[0].drop();
    await waitFor(() => c.state === "closed", "closed", 3000);
    assert.deepEqual(seen.map((r) => r.refused), [0, 0, 1, 2]);
    assert.equal(s.handshakes.length, 3);
    assert.match(events.state.at(-1).error.message, /sign in again/);
  });

  test("tokenExpiry reads a JWT's exp and nothing else", () => {
    assert.equal(tokenExpiry(fakeJWT(1234)), 1234);
    assert.equal(tokenExpiry("not-a-jwt"), undefined);
    assert.equal(tokenExpiry("a.b.c"), undefined);
  });
});

describe("options", () => {
  test("a bad option is named with its rule", () => {
    const WebSocket = globalThis.WebSocket;
    const token = () => "t";
    assert.throws(() => new ChatClient("ws://x/prod", {}), /options\.token is required/);
    assert.throws(() => new ChatClient("http://x/prod", { token, WebSocket }), /must start with ws:\/\/ or wss:\/\//);
    assert.throws(() => new ChatClient("ws://x/prod?token=abc", { token, WebSocket }), (e) => /carries a token/.test(e.message) && !e.message.includes("abc"));
    assert.throws(() => new ChatClient("ws://x/prod", { token, WebSocket, minBackoff: 100, maxBackoff: 50 }), /options\.maxBackoff \(50\) must be ≥ options\.minBackoff \(100\)/);
    assert.throws(() => new ChatClient("ws://x/prod", { token, WebSocket, heartbeatInterval: 600000 }), /heartbeatInterval.*idle timeout/);
    assert.throws(() => new ChatClient("ws://x/prod", { token, WebSocket, maxConnectionAge: 7200000 }), /maxConnectionAge.*connection cap/);
    assert.throws(() => new ChatClient("ws://x/prod", { token, WebSocket, pongTimeout: -1 }), /options\.pongTimeout \(-1\) must be a positive number/);
    assert.throws(() => new ChatClient("ws://x/prod", { token, WebSocket, tokenTransport: "header" }), /tokenTransport/);
  });
});
