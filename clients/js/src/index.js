// @ts-check
/**
 * The JavaScript client of the chat (browsers and Node): one dependency-free ES module with
 * the Go client's behaviour. See ChatClient.
 * @module
 */

export { ChatClient, MAX_MEMBERS_PAGES, dial, checkRoomId, checkText, checkUserId, isConversation } from "./client.js";
export { AuthError, ChatError, ClosedError, ConnectionLostError, HandshakeError, LimitError, ServerError } from "./errors.js";
export { backoffCeiling, backoffDelay } from "./backoff.js";
export { tokenExpiry } from "./token.js";
export * from "./protocol.js";
/** @typedef {import("./types.js").Options} Options */
/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").Ack} Ack */
/** @typedef {import("./types.js").Presence} Presence */
/** @typedef {import("./types.js").AppEvent} AppEvent */
/** @typedef {import("./types.js").Member} Member */
/** @typedef {import("./types.js").MemberList} MemberList */
/** @typedef {import("./types.js").HistoryPage} HistoryPage */
/** @typedef {import("./types.js").LostEvent} LostEvent */
/** @typedef {import("./types.js").StateEvent} StateEvent */
/** @typedef {import("./types.js").State} State */
/** @typedef {import("./types.js").RoomErrorEvent} RoomErrorEvent */
/** @typedef {import("./types.js").GatewayErrorEvent} GatewayErrorEvent */
/** @typedef {import("./types.js").EventMap} EventMap */
/** @typedef {import("./types.js").TokenRequest} TokenRequest */
