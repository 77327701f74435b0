// @ts-check
// One room's messages in sequence order, exactly once (the Go client's sequencer).

/** @typedef {import("./types.js").Message} Message */
/** @typedef {import("./types.js").LostEvent} LostEvent */
/** @typedef {{kind: "message", message: Message} | {kind: "lost", lost: LostEvent}} Delivery */

/**
 * Until it has a base (the joined frame of a first join) it only buffers. Then it delivers
 * seq next, next+1, ...: an older or repeated seq is dropped, a newer one waits in pending
 * until the gap before it is filled (by live frames, replay or history) or declared lost.
 */
export class Sequencer {
  /** @param {string} room */
  constructor(room) {
    this.room = room;
    this.based = false;
    /** The next seq to deliver. */
    this.next = 0;
    /** The highest seq known to exist. */
    this.known = 0;
    /** What came ahead of next, by seq: a message, or a lost range starting there. @type {Map<number, Delivery>} */
    this.pending = new Map();
  }

  /**
   * Sets the starting point of a first join: every seq after lastSeq is delivered. A
   * sequencer with a base only learns that seqs up to lastSeq exist.
   * @param {number} lastSeq @returns {Delivery[]}
   */
  base(lastSeq) {
    this.known = Math.max(this.known, lastSeq);
    if (this.based) return [];
    this.based = true;
    this.next = lastSeq + 1;
    this.dropBelowNext();
    return this.drain();
  }

  /** The last delivered seq, to resume from; undefined before the base is known. */
  since() {
    return this.based ? this.next - 1 : undefined;
  }

  /** Takes a message and returns what became deliverable. @param {Message} m @returns {Delivery[]} */
  add(m) {
    this.known = Math.max(this.known, m.seq);
    if (this.based && m.seq < this.next) return [];
    if (!this.pending.has(m.seq)) this.pending.set(m.seq, { kind: "message", message: m });
    return this.drain();
  }

  /**
   * Takes a range past retention and returns what became deliverable.
   * @param {number} from @param {number} to @param {string} reason @returns {Delivery[]}
   */
  lost(from, to, reason) {
    if (to < from) return [];
    this.known = Math.max(this.known, to);
    if (this.based) {
      if (to < this.next) return [];
      from = Math.max(from, this.next);
    }
    const e = this.pending.get(from);
    if (!e || (e.kind === "lost" && e.lost.to < to)) {
      this.pending.set(from, { kind: "lost", lost: { roomId: this.room, from, to, reason } });
    }
    return this.drain();
  }

  /** Delivers from next on while pending holds it. @returns {Delivery[]} */
  drain() {
    if (!this.based) return [];
    /** @type {Delivery[]} */
    const out = [];
    for (;;) {
      const e = this.pending.get(this.next);
      if (!e) return out;
      this.pending.delete(this.next);
      out.push(e);
      if (e.kind === "message") {
        this.next++;
        continue;
      }
      this.next = e.lost.to + 1;
      this.dropBelowNext();
    }
  }

  /** Forgets what pending holds before next; a lost range that reaches past next is kept, from next on. */
  dropBelowNext() {
    for (const [seq, e] of [...this.pending]) {
      if (seq >= this.next) continue;
      this.pending.delete(seq);
      if (e.kind === "lost" && e.lost.to >= this.next && !this.pending.has(this.next)) {
        this.pending.set(this.next, { kind: "lost", lost: { ...e.lost, from: this.next } });
      }
    }
  }

  /** Whether a seq known to exist is neither delivered nor lost. */
  missing() {
    return this.based && this.next <= this.known;
  }

  /** Learns that seq exists, without its message (an acknowledgement whose text is gone). @param {number} seq */
  saw(seq) {
    this.known = Math.max(this.known, seq);
  }
}
