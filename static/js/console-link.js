/* The console's live link to the server: one websocket that reconnects by itself.
 *
 * - Reconnects with exponential back-off (0.5 s doubling to 30 s, with jitter), and at once when
 *   the browser comes back online or the tab becomes visible again.
 * - Sends an application ping every 25 s; a ping unanswered for 10 s closes the socket, so a
 *   connection that died silently (proxy, Wi-Fi) is noticed and replaced.
 * - request(action, fields) returns a promise settled by the server's ack or error frame.
 * - Every other frame is an event for the console (onEvent); "hello" starts each connection.
 * - A connection counts as good once it has stayed up STABLE_MS; only then is the back-off reset.
 *   After FAILING_AFTER connections in a row that were accepted and then dropped sooner, with or
 *   without a hello (a server that fails on every connection), the state is "failing": a persistent error instead of a flicker
 *   between "connected" and "reconnecting", kept until a connection holds for STABLE_MS.
 */
"use strict";

const STABLE_MS = 10000;
const FAILING_AFTER = 3;

class ConsoleLink {
  constructor({ url, closeCodes, onState, onHello, onEvent, onFatal }) {
    Object.assign(this, { url, closeCodes, onState, onHello, onEvent, onFatal });
    this.socket = null;
    this.attempts = 0;
    this.failures = 0; // accepted connections in a row that were dropped before STABLE_MS
    this.openedAt = 0;
    this.stableTimer = null;
    this.nextId = 1;
    this.pending = new Map();
    this.retryTimer = null;
    this.pingTimer = null;
    this.stopped = false;
    this.connected = false;
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.reconnectNow();
    });
    this.open();
  }

  open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.failing()) this.onState(this.attempts === 0 ? "connecting" : "reconnecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    this.openedAt = 0;
    // Accepted (open), whether or not the server then gets as far as its hello.
    socket.addEventListener("open", () => {
      if (socket === this.socket) this.openedAt = Date.now();
    });
    socket.addEventListener("message", (event) => {
      if (socket === this.socket) this.receive(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (socket === this.socket) this.closed(event.code);
    });
  }

  reconnectNow() {
    if (this.stopped || this.connected || this.retryTimer === null) return;
    this.attempts = Math.max(this.attempts, 1);
    this.open();
  }

  receive(frame) {
    if (frame.type === "hello") {
      this.connected = true;
      if (!this.failing()) this.onState("connected");
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => this.stable(), STABLE_MS);
      this.startPing();
      this.onHello(frame);
      return;
    }
    if (frame.type === "ack" || frame.type === "error") {
      const waiting = this.pending.get(frame.request_id);
      if (!waiting) return;
      this.pending.delete(frame.request_id);
      clearTimeout(waiting.timer);
      if (frame.type === "ack") waiting.resolve(frame.result);
      else waiting.reject({ code: frame.code, reason: frame.reason });
      return;
    }
    this.onEvent(frame);
  }

  failing() {
    return this.failures >= FAILING_AFTER;
  }

  stable() {
    // Only now is the back-off forgotten: a server that drops every connection right after
    // accepting it must not be retried every half second.
    this.attempts = 0;
    this.failures = 0;
    this.onState("connected");
  }

  closed(code) {
    // Accepted, then dropped before it held (before or after the hello): the server is failing.
    // Never accepted (the server is down): an ordinary retry.
    if (this.openedAt && Date.now() - this.openedAt < STABLE_MS) this.failures += 1;
    this.connected = false;
    clearTimeout(this.stableTimer);
    clearInterval(this.pingTimer);
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject({ code: "disconnected", reason: "" });
      this.pending.delete(id);
    }
    if (code === this.closeCodes.notLoggedIn || code === this.closeCodes.noSeat) {
      this.stopped = true;
      this.onState("closed");
      this.onFatal(code === this.closeCodes.notLoggedIn ? "login" : "noSeat");
      return;
    }
    const delay = Math.min(30000, 500 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
    this.attempts += 1;
    this.onState(this.failing() ? "failing" : "reconnecting", delay);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.request("ping", {}, 10000).catch((error) => {
        if (error.code === "timeout" && this.socket) this.socket.close();
      });
    }, 25000);
  }

  request(action, fields = {}, timeoutMs = 15000) {
    if (!this.connected || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject({ code: "disconnected", reason: "" });
    }
    const requestId = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject({ code: "timeout", reason: "" });
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...fields, action, request_id: requestId }));
    });
  }
}

window.ConsoleLink = ConsoleLink;
