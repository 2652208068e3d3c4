// The review's websocket: connect, hello with the last applied event id, replies by ref,
// reconnect with exponential backoff and jitter, duplicate and gap checks on event frames.
//
// Handlers: lastEventId() -> id|null, name() -> str, onWelcome(msg), onEvent(frame),
// onPresence(viewers), onStatus(msg), onState(info).

import { compareIds } from "./state.js";

const BASE_DELAY = 500;
const MAX_DELAY = 15_000;
const PING_EVERY = 25_000;
const SILENCE_LIMIT = 65_000;
const REPLY_TIMEOUT = 15_000;

export const FATAL_CLOSES = {
  4401: "This link's token is not valid for this review.",
  4404: "This review does not exist (it may have been deleted).",
};

export class Connection {
  constructor(url, handlers) {
    this.url = url; // string or () => string
    this.h = handlers;
    this.ws = null;
    this.state = "idle"; // idle | connecting | open | waiting | closed
    this.attempt = 0; // failed attempts in a row
    this.retryAt = null;
    this.timer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.pending = new Map(); // ref -> {resolve, reject, timer}
    this.refSeq = 0;
    this.welcomed = false;
    this.everWelcomed = false;
    this.fatal = null;
    this.closeInfo = null;
    this.stats = { connects: 0, welcomes: 0, recovered: 0, snapshots: 0, duplicates: 0, gaps: 0, closes: [] };
    this._resyncing = false;
    this._onOnline = () => this.retryNow();
    this._onVisible = () => { if (document.visibilityState === "visible") this.retryNow(); };
    window.addEventListener("online", this._onOnline);
    document.addEventListener("visibilitychange", this._onVisible);
  }

  info() {
    return { state: this.state, attempt: this.attempt, retryAt: this.retryAt, fatal: this.fatal,
      close: this.closeInfo, everWelcomed: this.everWelcomed };
  }

  setState(state) {
    this.state = state;
    this.h.onState && this.h.onState(this.info());
  }

  start() {
    if (this.fatal) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.retryAt = null;
    this.welcomed = false;
    this.setState("connecting");
    const url = typeof this.url === "function" ? this.url() : this.url;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.stats.connects += 1;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      this.rawSend({ op: "hello", last_event_id: this.h.lastEventId() || null, name: this.h.name() });
    };
    ws.onmessage = (e) => {
      if (ws !== this.ws) return;
      this.lastFrameAt = Date.now();
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      this.onFrame(msg);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.onClose(e.code, e.reason);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  onFrame(msg) {
    switch (msg.type) {
      case "welcome":
        this.welcomed = true;
        this.everWelcomed = true;
        this.attempt = 0;
        this.stats.welcomes += 1;
        if (msg.recovered) this.stats.recovered += 1;
        else this.stats.snapshots += 1;
        this.startPings();
        this.setState("open");
        this.h.onWelcome(msg);
        break;
      case "event":
        this.onEvent(msg);
        break;
      case "reply": {
        const p = this.pending.get(msg.ref);
        if (p) {
          this.pending.delete(msg.ref);
          clearTimeout(p.timer);
          if (msg.ok) p.resolve(msg.data || {});
          else p.reject(Object.assign(new Error((msg.error && msg.error.message) || "The request failed."),
            { code: msg.error && msg.error.code }));
        } else if (msg.ok === false && this.h.onError) {
          this.h.onError(msg.error || {});
        }
        break;
      }
      case "presence":
        this.h.onPresence && this.h.onPresence(msg.viewers || []);
        break;
      case "status":
        this.h.onStatus && this.h.onStatus(msg);
        break;
      default:
        break;
    }
  }

  onEvent(frame) {
    const last = this.h.lastEventId();
    if (last && compareIds(frame.id, last) <= 0) {
      this.stats.duplicates += 1; // already applied (replay overlap): ignore
      return;
    }
    if ((frame.prev || "") !== (last || "")) {
      // An event between our last one and this one never reached us: resume from the log.
      this.stats.gaps += 1;
      this.resync();
      return;
    }
    this.h.onEvent(frame);
  }

  /** Reconnect now and resume after the last applied event. */
  resync() {
    if (this._resyncing || !this.ws) return;
    this._resyncing = true;
    const ws = this.ws;
    this.ws = null;
    this.stopPings();
    this.rejectPending("The connection was renewed; try again.");
    try { ws.close(4000, "resync"); } catch { /* already closing */ }
    this._resyncing = false;
    this.start();
  }

  onClose(code, reason) {
    this.ws = null;
    this.stopPings();
    this.stats.closes.push(code);
    this.closeInfo = { code, reason };
    this.rejectPending("The connection was lost before the server answered.");
    if (FATAL_CLOSES[code]) {
      this.fatal = { code, message: FATAL_CLOSES[code] };
      this.setState("closed");
      return;
    }
    if (this.state === "closed") return; // stopped on purpose
    if (!this.welcomed && this.h.checkAccess && code !== 1001) {
      // Closed before the welcome without a usable code (a browser may report 1006 when the
      // server refuses at once): ask over HTTP whether the link still opens the review.
      this.h.checkAccess().then((verdict) => {
        if (!verdict || this.fatal) return;
        clearTimeout(this.timer);
        this.fatal = verdict;
        this.setState("closed");
      }).catch(() => {});
    }
    if (code === 1001) {
      // The server is going away (restart, deploy): come back at once, spread out a little.
      this.scheduleReconnect(100 + Math.random() * 600);
      return;
    }
    this.scheduleReconnect();
  }

  /** Next delay: exponential, capped, with full jitter (never zero). */
  backoff() {
    const ceiling = Math.min(MAX_DELAY, BASE_DELAY * 2 ** this.attempt);
    return Math.round(BASE_DELAY / 2 + Math.random() * (ceiling - BASE_DELAY / 2));
  }

  scheduleReconnect(delay) {
    const wait = delay ?? this.backoff();
    this.attempt += 1;
    this.retryAt = Date.now() + wait;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.start(), wait);
    this.setState("waiting");
  }

  retryNow() {
    if (this.state === "waiting" && !this.fatal) this.start();
  }

  stop() {
    clearTimeout(this.timer);
    this.stopPings();
    if (this.state !== "closed") this.setState("closed");
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, "bye");
    }
    window.removeEventListener("online", this._onOnline);
    document.removeEventListener("visibilitychange", this._onVisible);
  }

  /** Drop the connection and reconnect (e.g. after the reviewer's name changed). */
  reconnect() {
    if (this.fatal) return;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      this.stopPings();
      this.rejectPending("The connection was renewed; try again.");
      try { ws.close(1000, "reconnect"); } catch { /* ignore */ }
    }
    this.start();
  }

  startPings() {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.state !== "open") return;
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT) {
        // Nothing heard for too long, not even a pong: the connection is dead.
        const ws = this.ws;
        this.ws = null;
        try { ws.close(4000, "silent"); } catch { /* ignore */ }
        this.onClose(4000, "silent");
        return;
      }
      this.request("ping", {}).catch(() => {});
    }, PING_EVERY);
  }

  stopPings() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  rawSend(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  get isOpen() {
    return this.state === "open" && !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  /** Send an op and wait for its reply: resolves with reply.data, rejects with reply.error. */
  request(op, data = {}, timeout = REPLY_TIMEOUT) {
    if (!this.isOpen) return Promise.reject(Object.assign(new Error("Not connected to the server just now."), { code: "offline" }));
    this.refSeq += 1;
    const ref = `c${this.refSeq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(Object.assign(new Error("The server did not answer in time."), { code: "timeout" }));
      }, timeout);
      this.pending.set(ref, { resolve, reject, timer });
      this.rawSend({ op, ...data, ref });
    });
  }

  rejectPending(message) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(Object.assign(new Error(message), { code: "connection_lost" }));
    }
    this.pending.clear();
  }
}
