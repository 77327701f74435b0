// @ts-check
// The chat page: signs in with a token from the local issuer (or a pasted one), joins rooms,
// shows messages with sender and time, the room's members (read with members when joining,
// kept up by presence), direct messages in a view per conversation ("/dm user text" or the
// Message form of a conversation), older messages page by page, the connection state, and
// every error as text next to what caused it. Built on the client module alone.

import { AuthError, ChatClient, HandshakeError, LimitError, MAX_TEXT_LENGTH, ServerError, checkRoomId, checkText, checkUserId } from "../src/index.js";

/** @typedef {import("../src/index.js").Message} Message */

/** @template {HTMLElement} T @param {string} id @param {{new(): T, prototype: T}} type @returns {T} */
function el(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`the page lacks #${id}`);
  return e;
}

const ui = {
  who: el("who", HTMLElement),
  status: el("status", HTMLElement),
  signout: el("signout", HTMLButtonElement),
  signinView: el("signin-view", HTMLElement),
  signin: el("signin", HTMLFormElement),
  user: el("user", HTMLInputElement),
  name: el("name", HTMLInputElement),
  token: el("token", HTMLTextAreaElement),
  signinButton: el("signin-button", HTMLButtonElement),
  signinError: el("signin-error", HTMLElement),
  chatView: el("chat-view", HTMLElement),
  join: el("join", HTMLFormElement),
  room: el("room", HTMLInputElement),
  joinError: el("join-error", HTMLElement),
  rooms: el("rooms", HTMLUListElement),
  presence: el("presence", HTMLUListElement),
  roomTitle: el("room-title", HTMLElement),
  scroller: el("scroller", HTMLElement),
  older: el("older", HTMLButtonElement),
  olderStatus: el("older-status", HTMLElement),
  logs: el("logs", HTMLElement),
  send: el("send", HTMLFormElement),
  text: el("text", HTMLTextAreaElement),
  counter: el("counter", HTMLElement),
  sendError: el("send-error", HTMLElement),
};

/**
 * A joined room as the page shows it.
 * @typedef {object} RoomView
 * @property {string} id
 * @property {HTMLOListElement} log messages by seq
 * @property {HTMLOListElement} pending own messages not yet acknowledged
 * @property {Map<number, HTMLLIElement>} bySeq
 * @property {number | undefined} before the seq to read older messages below
 * @property {boolean} hasMore
 * @property {boolean} loading
 * @property {Map<string, string>} present user id → display name
 * @property {HTMLLIElement} tab
 * @property {string} [peer] set on a direct conversation: the other user's id
 */

/** @type {{url: string, tokenUrl: string} | undefined} */
let config;
/** @type {ChatClient | undefined} */
let client;
/** @type {Map<string, RoomView>} */
const rooms = new Map();
/** @type {RoomView | undefined} */
let current;
let me = { user: "", name: "" };

/** Says what went wrong in words: never an object's default string or a stack. @param {unknown} err */
export function describe(err) {
  if (err instanceof ServerError) return `${err.serverMessage} (${err.code})`;
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err) ?? "unknown error";
  } catch {
    return "unknown error";
  }
}

/** @param {string} state @param {string} text */
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/** Gets a token from the local issuer; a 4xx answer is a refusal (sign in again). */
async function issuerToken() {
  if (!config) throw new Error("the page has no configuration");
  const q = new URLSearchParams({ user: me.user });
  if (me.name) q.set("name", me.name);
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`${config.tokenUrl}?${q}`);
  } catch {
    throw new Error("the token service cannot be reached");
  }
  const body = (await res.text()).trim();
  if (res.status >= 400 && res.status < 500) throw new AuthError("refused", `the token service refused: ${body}`);
  if (!res.ok) throw new Error(`the token service answered HTTP ${res.status}`);
  return body;
}

/** @param {SubmitEvent} e */
async function signIn(e) {
  e.preventDefault();
  ui.signinError.textContent = "";
  me = { user: ui.user.value.trim(), name: ui.name.value.trim() };
  const pasted = ui.token.value.trim();
  if (!me.user && !pasted) {
    ui.signinError.textContent = "Enter a user id, or paste a token.";
    return;
  }
  if (!config) {
    ui.signinError.textContent = "The page could not load its configuration (config.json): reload it.";
    return;
  }
  ui.signinButton.disabled = true;
  setStatus("connecting", "Connecting…");
  const c = new ChatClient(config.url, {
    tokenTransport: "subprotocol", // as browsers must: they cannot set headers
    token: pasted
      ? (req) => {
          // A pasted token cannot be renewed: refused three times in a row, it is over.
          if (req.refused >= 3) throw new AuthError("refused", "the chat server keeps refusing this token: sign in again");
          return pasted;
        }
      : issuerToken,
    logger: { warn: (msg, fields) => console.warn(msg, fields), debug: () => {} },
  });
  c.on("state", onState);
  c.on("message", onMessage);
  c.on("presence", (p) => {
    const r = rooms.get(p.roomId);
    if (!r) return;
    if (p.event === "joined") r.present.set(p.userId, p.displayName || p.userId);
    else r.present.delete(p.userId);
    if (r === current) renderPresence();
    // A user with another connection left is still there: the server's list says.
    scheduleMembers(r);
  });
  c.on("lost", (l) => {
    const r = rooms.get(l.roomId);
    if (!r) return;
    const li = document.createElement("li");
    li.className = "lost";
    li.dataset.lost = `${l.from}-${l.to}`;
    li.textContent = `Messages ${l.from} to ${l.to} are past history retention and cannot be shown.`;
    insertBySeq(r, li, l.from);
  });
  c.on("roomerror", (ev) => {
    ui.joinError.textContent = `Room ${ev.roomId} could not be resumed: ${describe(ev.error)}`;
    removeRoom(ev.roomId);
  });
  c.on("gatewayerror", (ev) => {
    ui.sendError.textContent = `The API answered "${ev.message}"; the request is sent again.`;
  });
  try {
    await c.connect();
  } catch (err) {
    ui.signinButton.disabled = false;
    setStatus("signedout", "Signed out");
    ui.signinError.textContent = signInFailure(err);
    return;
  }
  client = c;
  ui.signinButton.disabled = false;
  ui.who.textContent = `Signed in as ${me.name || me.user || "token user"}`;
  ui.who.hidden = false;
  ui.signout.hidden = false;
  ui.signinView.hidden = true;
  ui.chatView.hidden = false;
  ui.room.focus();
  await joinRoom(ui.room.value.trim() || "general");
}

/** @param {unknown} err */
function signInFailure(err) {
  if (err instanceof HandshakeError) return "Sign-in failed: the chat server refused the token, or cannot be reached.";
  if (err instanceof AuthError) return `Sign-in failed: ${err.message}`;
  return `Sign-in failed: ${describe(err)}`;
}

/** @param {import("../src/index.js").StateEvent} ev */
function onState(ev) {
  switch (ev.state) {
    case "connected":
      setStatus("connected", "Connected");
      return;
    case "reconnecting":
      setStatus("reconnecting", ev.error ? `Reconnecting… (${describe(ev.error)})` : "Reconnecting…");
      return;
    case "closed":
      if (ev.error) signedOut(`Signed out: ${describe(ev.error)}`);
  }
}

/** @param {string} why */
function signedOut(why) {
  client?.close();
  client = undefined;
  for (const id of [...rooms.keys()]) removeRoom(id);
  setStatus("signedout", "Signed out");
  ui.who.hidden = true;
  ui.signout.hidden = true;
  ui.chatView.hidden = true;
  ui.signinView.hidden = false;
  ui.signinError.textContent = why;
  ui.user.focus();
}

/** @param {string} id */
async function joinRoom(id) {
  ui.joinError.textContent = "";
  try {
    checkRoomId(id);
  } catch (err) {
    ui.joinError.textContent = `Not joined: ${describe(err)}`;
    return;
  }
  if (!client) return;
  const existing = rooms.get(id);
  if (existing) {
    select(existing);
    return;
  }
  const r = addRoom(id);
  select(r);
  try {
    await client.join(id);
  } catch (err) {
    ui.joinError.textContent = `Could not join ${id}: ${describe(err)}`;
    removeRoom(id);
    return;
  }
  r.present.set(me.user || "me", me.name || me.user || "me");
  if (r === current) renderPresence();
  await Promise.all([loadMembers(r), loadOlder(r)]);
}

/** Replaces r's member list with the server's (members), which names those who joined before. @param {RoomView} r */
async function loadMembers(r) {
  if (!client || r.peer) return;
  try {
    const list = await client.members(r.id, { max: 500 });
    if (rooms.get(r.id) !== r) return;
    r.present = new Map(list.map((m) => [m.userId, m.displayName || m.userId]));
    if (r === current) renderPresence();
  } catch (err) {
    if (r === current) ui.joinError.textContent = `Could not list the members of ${r.id}: ${describe(err)}`;
  }
}

/** @type {Map<RoomView, ReturnType<typeof setTimeout>>} */
const membersTimers = new Map();
/** Reads r's members again shortly, once for a burst of presence events. @param {RoomView} r */
function scheduleMembers(r) {
  if (membersTimers.has(r)) return;
  membersTimers.set(r, setTimeout(() => {
    membersTimers.delete(r);
    void loadMembers(r);
  }, 500));
}

/** The other user of a direct message, as this user sees it. @param {Message} m */
function peerOf(m) {
  if (me.user && m.userId === me.user) return m.toUserId ?? m.userId;
  if (me.user && m.toUserId === me.user) return m.userId;
  return m.userId === m.toUserId ? m.userId : `${m.userId} / ${m.toUserId}`;
}

/** The view of a direct conversation, added (not selected) on its first message. @param {Message} m */
function directView(m) {
  const existing = rooms.get(m.roomId);
  if (existing) return existing;
  const r = addRoom(m.roomId, peerOf(m));
  if (current) r.log.hidden = r.pending.hidden = true;
  else select(r);
  return r;
}

/** Sends "/dm user text" from the message box. @param {string} line @returns {Promise<void>} */
async function sendDirectCommand(line) {
  const m = /^\/dm\s+(\S+)\s+([\s\S]+)$/.exec(line);
  if (!m) {
    ui.sendError.textContent = "Not sent: write /dm, a user id and the message, e.g. /dm bob hello.";
    return;
  }
  const [, to, text] = m;
  await sendDirect(to, text);
}

/** @param {string} to @param {string} text */
async function sendDirect(to, text) {
  if (!client) return;
  try {
    checkUserId(to);
    checkText(text);
  } catch (err) {
    ui.sendError.textContent = `Not sent: ${describe(err)}.`;
    return;
  }
  ui.text.value = "";
  updateCounter();
  ui.sendError.textContent = `Sending to ${to}…`;
  try {
    const ack = await client.direct(to, text);
    ui.sendError.textContent = "";
    const r = rooms.get(ack.roomId);
    if (r) select(r); // its own message came as a "message" event, in its place
  } catch (err) {
    ui.text.value = `/dm ${to} ${text}`;
    updateCounter();
    ui.sendError.textContent = `Direct message to ${to} not sent: ${describe(err)}`;
  }
}

/** @param {string} id @param {string} [peer] set for a direct conversation @returns {RoomView} */
function addRoom(id, peer) {
  const log = document.createElement("ol");
  log.className = "log";
  log.dataset.room = id;
  log.setAttribute("aria-label", `Messages of ${id}`);
  const pending = document.createElement("ol");
  pending.className = "log pending-log";
  pending.dataset.pendingRoom = id;
  ui.logs.append(log, pending);
  const tab = document.createElement("li");
  const open = document.createElement("button");
  open.type = "button";
  open.className = "room";
  open.textContent = peer ? `@ ${peer}` : `# ${id}`;
  if (peer) {
    tab.className = "direct";
    open.setAttribute("aria-label", `Direct messages with ${peer}`);
  }
  const leave = document.createElement("button");
  leave.type = "button";
  leave.textContent = peer ? "Close" : "Leave";
  leave.setAttribute("aria-label", peer ? `Close the direct messages with ${peer}` : `Leave ${id}`);
  tab.append(open, leave);
  ui.rooms.append(tab);
  /** @type {RoomView} */
  const r = { id, log, pending, bySeq: new Map(), before: undefined, hasMore: true, loading: false, present: new Map(), tab, peer };
  rooms.set(id, r);
  open.addEventListener("click", () => select(r));
  leave.addEventListener("click", async () => {
    removeRoom(id);
    if (peer) return; // the client keeps the conversation; its next message opens it again
    try {
      await client?.leave(id);
    } catch (err) {
      ui.joinError.textContent = `Could not leave ${id}: ${describe(err)}`;
    }
  });
  return r;
}

/** @param {string} id */
function removeRoom(id) {
  const r = rooms.get(id);
  if (!r) return;
  rooms.delete(id);
  r.log.remove();
  r.pending.remove();
  r.tab.remove();
  if (current === r) {
    current = undefined;
    const next = rooms.values().next();
    if (!next.done) select(next.value);
    else {
      ui.roomTitle.textContent = "No room joined";
      ui.older.hidden = true;
      renderPresence();
    }
  }
}

/** @param {RoomView} r */
function select(r) {
  current = r;
  r.tab.classList.remove("unread");
  for (const o of rooms.values()) {
    o.log.hidden = o !== r;
    o.pending.hidden = o !== r;
    o.tab.querySelector("button.room")?.setAttribute("aria-pressed", String(o === r));
  }
  ui.roomTitle.textContent = r.peer ? `Direct: ${r.peer}` : `# ${r.id}`;
  ui.older.hidden = !r.hasMore;
  ui.olderStatus.textContent = "";
  renderPresence();
}

function renderPresence() {
  ui.presence.replaceChildren();
  if (!current || current.peer) return;
  for (const [id, name] of [...current.present].sort((a, b) => a[1].localeCompare(b[1]))) {
    const li = document.createElement("li");
    li.className = "here";
    li.dataset.user = id;
    li.textContent = name;
    ui.presence.append(li);
  }
}

/** @param {Message} m */
function onMessage(m) {
  const r = m.toUserId ? directView(m) : rooms.get(m.roomId);
  if (!r) return;
  render(r, m);
  if (m.toUserId && r !== current) r.tab.classList.add("unread");
}

/** Shows m in its place by seq, once. @param {RoomView} r @param {Message} m */
function render(r, m) {
  if (r.bySeq.has(m.seq)) return;
  const li = document.createElement("li");
  li.dataset.seq = String(m.seq);
  const meta = document.createElement("div");
  meta.className = "meta";
  const sender = document.createElement("span");
  sender.className = "sender";
  sender.textContent = m.displayName || m.userId;
  const time = document.createElement("time");
  time.dateTime = m.sentAt;
  const at = new Date(m.sentAt);
  time.textContent = Number.isNaN(at.getTime()) ? m.sentAt : at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  time.title = m.sentAt;
  meta.append(sender, time);
  if (m.toUserId) {
    const to = document.createElement("span");
    to.className = "direct-label";
    to.textContent = `direct to ${m.toUserId}`;
    meta.append(" ", to);
  }
  const text = document.createElement("p");
  text.className = "text";
  if (m.eventType) {
    text.classList.add("app-event");
    text.textContent = `${m.eventType}: ${JSON.stringify(m.data ?? null)}`;
  } else text.textContent = m.text;
  li.append(meta, text);
  r.bySeq.set(m.seq, li);
  insertBySeq(r, li, m.seq);
}

/** @param {RoomView} r @param {HTMLLIElement} li @param {number} seq */
function insertBySeq(r, li, seq) {
  const stick = ui.scroller.scrollHeight - ui.scroller.scrollTop - ui.scroller.clientHeight < 40;
  let after = r.log.lastElementChild;
  while (after instanceof HTMLElement && Number(after.dataset.seq ?? after.dataset.lost?.split("-")[0]) > seq) after = after.previousElementSibling;
  if (after) after.after(li);
  else r.log.prepend(li);
  if (stick && r === current) ui.scroller.scrollTop = ui.scroller.scrollHeight;
}

/** Reads the page of messages below what r shows. @param {RoomView} r */
async function loadOlder(r) {
  if (!client || r.loading || !r.hasMore) return;
  r.loading = true;
  ui.olderStatus.textContent = "Loading older messages…";
  const height = ui.scroller.scrollHeight;
  try {
    const page = await client.history(r.id, { before: r.before, limit: 20 });
    for (const m of page.messages) render(r, m);
    r.hasMore = page.hasMore;
    r.before = page.before ?? page.messages[0]?.seq;
    if (r === current) {
      ui.olderStatus.textContent = r.hasMore ? "" : r.bySeq.size ? "Beginning of the room." : "No messages yet.";
      ui.scroller.scrollTop += ui.scroller.scrollHeight - height;
      if (r.before === undefined || r.before <= 1) r.hasMore = false;
      ui.older.hidden = !r.hasMore;
    }
  } catch (err) {
    if (r === current) ui.olderStatus.textContent = `Could not load older messages: ${describe(err)}`;
  } finally {
    r.loading = false;
  }
}

function updateCounter() {
  let n = 0;
  for (const _ of ui.text.value) n++;
  ui.counter.textContent = `${n} / ${MAX_TEXT_LENGTH}`;
  ui.counter.classList.toggle("over", n > MAX_TEXT_LENGTH);
}

/** @param {SubmitEvent} e */
async function sendMessage(e) {
  e.preventDefault();
  ui.sendError.textContent = "";
  const r = current;
  const text = ui.text.value;
  if (client && text.startsWith("/dm ")) {
    await sendDirectCommand(text.trim());
    return;
  }
  if (client && r?.peer) {
    if (text.trim()) await sendDirect(r.peer, text);
    return;
  }
  if (!client || !r) {
    ui.sendError.textContent = "Not sent: join a room first.";
    return;
  }
  if (!text.trim()) return;
  try {
    checkText(text);
  } catch (err) {
    if (err instanceof LimitError) ui.sendError.textContent = `Not sent: ${err.message}.`;
    else ui.sendError.textContent = `Not sent: ${describe(err)}`;
    return;
  }
  ui.text.value = "";
  updateCounter();
  const li = document.createElement("li");
  li.className = "pending";
  const p = document.createElement("p");
  p.className = "text";
  p.textContent = text;
  const note = document.createElement("div");
  note.className = "meta";
  note.textContent = "sending…";
  li.append(note, p);
  r.pending.append(li);
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
  try {
    await client.send(r.id, text);
    li.remove(); // the message itself came as a "message" event, in its place
  } catch (err) {
    li.classList.add("failed");
    note.className = "meta error";
    note.textContent = `Not sent: ${describe(err)}`;
  }
}

ui.signin.addEventListener("submit", signIn);
ui.signout.addEventListener("click", () => signedOut(""));
ui.join.addEventListener("submit", (e) => {
  e.preventDefault();
  void joinRoom(ui.room.value.trim());
});
ui.send.addEventListener("submit", sendMessage);
ui.text.addEventListener("input", updateCounter);
// Enter sends, Shift+Enter adds a line. A keyboard whose Enter still inserts its character after
// a cancelled keydown (CDP's key events do) has that line break cancelled too.
let enterSent = false;
ui.text.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    enterSent = true;
    ui.send.requestSubmit();
  }
});
ui.text.addEventListener("keyup", (e) => {
  if (e.key === "Enter") enterSent = false;
});
ui.text.addEventListener("beforeinput", (e) => {
  if (enterSent && (e.inputType === "insertLineBreak" || e.inputType === "insertParagraph")) e.preventDefault();
});
ui.older.addEventListener("click", () => current && loadOlder(current));
ui.scroller.addEventListener("scroll", () => {
  if (current && ui.scroller.scrollTop === 0) void loadOlder(current);
});
updateCounter();

try {
  const res = await fetch("config.json");
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  config = await res.json();
  document.body.dataset.ready = "true";
} catch (err) {
  ui.signinError.textContent = `The page could not load its configuration (config.json): ${describe(err)}`;
}
