/* The servicer console: sessions, live chat, status. Plain JavaScript, no build step.
 *
 * The server is the truth: the list of sessions and their messages come from a resync after
 * every (re)connect, then live events. Messages are keyed by their per-session sequence number,
 * so a message seen twice (event and resync) is shown once and a missed one is fetched.
 */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const T = JSON.parse(document.getElementById("console-strings").textContent);
  const $ = (id) => document.getElementById(id);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const baseTitle = document.title;

  const app = {
    config,
    T,
    seat: config.seat,
    sessions: new Map(), // id -> {id, info, messages: Map(seq -> message), lastSeq, ended}
    activeId: null,
    // Messages being sent or not sent: {localId, sessionId, text, state ("sending" | "failed"), seq,
    // reason, afterSeq}. Each is shown where it was sent: after message afterSeq, before any later one.
    pending: [],
    drafts: new Map(),
    readSeq: JSON.parse(localStorage.getItem(`cs-console-read-${config.seat.id}`) || "{}"),
    link: null,
  };
  window.ConsoleApp = app;
  window.ConsoleRender.install(app);

  // Small helpers

  app.fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
  app.apiUrl = (name, id) => config.api[name].replace("/0/", `/${id}/`);

  app.fetchJson = async (url, options = {}) => {
    const headers = { Accept: "application/json", "X-CSRFToken": csrfToken, ...(options.headers || {}) };
    const response = await fetch(url, { credentials: "same-origin", ...options, headers });
    if (response.status === 204) return null;
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const firstField = Object.values(body).find(Array.isArray);
      throw { status: response.status, reason: body.error || body.detail || (firstField && firstField[0]) || T.requestFailed };
    }
    return body;
  };

  app.toast = (text, kind = "info") => {
    const node = app.el("div", `toast toast-${kind}`, text);
    $("toasts").append(node);
    setTimeout(() => node.classList.add("leaving"), 4500);
    setTimeout(() => node.remove(), 5000);
  };

  app.errorText = (error) => {
    if (error.code === "disconnected") return T.notConnected;
    if (error.code === "timeout") return T.noAnswer;
    return error.reason || T.requestFailed;
  };

  // Sessions

  app.session = (id) => app.sessions.get(Number(id));

  // Profiles read since the page loaded (customer.updated), for rows read before them.
  app.profiles = new Map(); // customer id -> {customer_name, customer_avatar}
  app.nameWaiters = new Map(); // customer id -> called with the name once it is known
  app.nameUnknown = (info) => info.customer_name === info.customer_im_user_id;

  app.upsertSession = (info) => {
    const profile = app.profiles.get(info.customer_id);
    if (profile && app.nameUnknown(info)) info = { ...info, ...profile };
    let session = app.session(info.id);
    if (!session) {
      session = { id: info.id, info, messages: new Map(), lastSeq: 0, ended: null };
      app.sessions.set(info.id, session);
    }
    session.info = info;
    session.ended = null;
    return session;
  };

  app.applySessionList = (rows) => {
    const live = new Set(rows.map((row) => row.id));
    for (const row of rows) app.upsertSession(row);
    for (const session of app.sessions.values()) {
      if (!live.has(session.id) && !session.ended) app.endSession(session.id, T.sessionGone);
    }
  };

  // An ended session once it is out of sight: its messages not sent go with it.
  app.forgetSession = (id) => {
    app.sessions.delete(id);
    app.pending = app.pending.filter((item) => item.sessionId !== id);
  };

  app.endSession = (id, why) => {
    const session = app.session(id);
    if (!session) return;
    session.ended = why;
    if (app.activeId !== session.id) app.forgetSession(session.id);
    app.render();
  };

  app.addMessage = (message, { live }) => {
    const session = app.session(message.session_id);
    if (!session || session.ended) {
      if (live) app.resyncSoon();
      return;
    }
    if (session.messages.has(message.seq)) return;
    // A gap means a message was missed (it can happen during a reconnect): fetch it.
    const gap = live && message.seq > session.lastSeq + 1 && session.lastSeq > 0;
    session.messages.set(message.seq, message);
    session.lastSeq = Math.max(session.lastSeq, message.seq);
    app.pending = app.pending.filter((item) => !(item.sessionId === session.id && item.seq === message.seq));
    if (gap) app.fetchMissing(session.id);
    if (session.id === app.activeId) app.insertMessage(message, session);
    if (live && message.author === "customer") app.alerts.customerMessage(session, message);
    app.renderList();
  };

  app.fetchMissing = async (id) => {
    for (;;) {
      const session = app.session(id);
      if (!session || session.ended) return;
      const known = [...session.messages.keys()].sort((a, b) => a - b);
      let after = 0;
      while (known.includes(after + 1)) after += 1;
      const body = await app.fetchJson(`${app.apiUrl("messages", id)}?after_seq=${after}&limit=500`).catch(() => null);
      if (!body) return;
      for (const message of body.messages) app.addMessage({ ...message, session_id: id }, { live: false });
      if (body.messages.length < 500) return;
    }
  };

  app.unread = (session) => {
    const read = app.readSeq[session.id] || 0;
    let count = 0;
    for (const message of session.messages.values()) if (message.author === "customer" && message.seq > read) count += 1;
    return count;
  };

  app.markRead = () => {
    const session = app.session(app.activeId);
    if (!session || document.hidden || !document.hasFocus()) return;
    if ((app.readSeq[session.id] || 0) >= session.lastSeq) return;
    app.readSeq[session.id] = session.lastSeq;
    const open = new Set(app.sessions.keys());
    for (const id of Object.keys(app.readSeq)) if (!open.has(Number(id))) delete app.readSeq[id];
    localStorage.setItem(`cs-console-read-${config.seat.id}`, JSON.stringify(app.readSeq));
    app.renderList();
  };

  // Since when the customer has waited for an answer (ms), or null when the servicer spoke last.
  app.waitingSince = (session) => {
    let since = null;
    const ordered = [...session.messages.values()].sort((a, b) => b.seq - a.seq);
    for (const message of ordered) {
      if (message.author === "servicer") break;
      if (message.author === "customer") since = message.server_timestamp;
    }
    return since;
  };

  // The list's order: who has waited longest first, then those answered, in the order they came.
  app.byWaiting = (a, b) => (app.waitingSince(a) ?? Infinity) - (app.waitingSince(b) ?? Infinity) || a.id - b.id;

  // Rendering

  app.renderList = () => {
    const list = $("session-list");
    const open = [...app.sessions.values()].filter((session) => !session.ended).sort(app.byWaiting);
    const nodes = open.map((session) => {
      const item = app.el("li");
      const button = app.el("button", "session-item");
      button.type = "button";
      button.dataset.sessionId = session.id;
      if (session.id === app.activeId) button.classList.add("active");
      if (session.fresh) button.classList.add("fresh");
      const avatar = app.el("span", "avatar");
      app.avatar(avatar, session.info.customer_name, session.info.customer_avatar);
      const body = app.el("span", "session-body");
      const top = app.el("span", "session-top");
      top.append(app.el("span", "session-name", session.info.customer_name));
      const since = app.waitingSince(session);
      const waiting = app.el("span", "waiting");
      if (since) {
        waiting.dataset.since = since;
        waiting.textContent = app.duration(Date.now() - since);
        waiting.title = T.waitingTitle;
      }
      top.append(waiting);
      const bottom = app.el("span", "session-bottom");
      bottom.append(app.el("span", "session-preview", app.preview(session)));
      if (session.info.transfer_note || session.info.transferred_from) bottom.append(app.el("span", "tag", T.transferred));
      const unread = app.unread(session);
      if (unread) bottom.append(app.el("span", "badge", unread > 99 ? "99+" : String(unread)));
      body.append(top, bottom);
      button.append(avatar, body);
      item.append(button);
      return item;
    });
    list.replaceChildren(...nodes);
    $("session-count").textContent = open.length ? `${open.length}` : "";
    $("session-empty").hidden = open.length > 0;
    $("session-empty-text").textContent = T.emptyByStatus[app.seat.status] || "";
    $("my-load").textContent = `${open.length}/${app.seat.capacity}`;
    const total = open.reduce((sum, session) => sum + app.unread(session), 0);
    document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
    app.tickWaiting();
  };

  app.tickWaiting = () => {
    for (const node of document.querySelectorAll(".waiting[data-since]")) {
      const waited = Date.now() - Number(node.dataset.since);
      node.textContent = app.duration(waited);
      node.classList.toggle("late", waited > 120000);
    }
    const session = app.session(app.activeId);
    const since = session && !session.ended ? app.waitingSince(session) : null;
    $("customer-waiting").textContent = since ? app.fmt(T.waitingFor, { time: app.duration(Date.now() - since) }) : "";
  };

  app.renderChat = () => {
    const session = app.session(app.activeId);
    $("chat").hidden = !session;
    $("chat-empty").hidden = Boolean(session);
    $("customer-card").hidden = !session;
    if (!session) {
      app.customer.clear();
      return;
    }
    const info = session.info;
    app.avatar($("chat-avatar"), info.customer_name, info.customer_avatar);
    app.avatar($("customer-avatar"), info.customer_name, info.customer_avatar);
    $("chat-name").textContent = info.customer_name;
    $("customer-name").textContent = info.customer_name;
    const since = info.assigned_at ? app.time(Date.parse(info.assigned_at)) : "";
    $("chat-meta").textContent = app.fmt(T.sessionMeta, { id: info.id, time: since });
    const note = $("chat-note");
    note.hidden = !(info.transfer_note || info.transferred_from);
    note.textContent = info.transfer_note
      ? app.fmt(T.transferNote, { name: info.transferred_from, note: info.transfer_note })
      : app.fmt(T.transferNoNote, { name: info.transferred_from });
    $("chat-ended").hidden = !session.ended;
    $("chat-ended").textContent = session.ended || "";
    for (const id of ["composer-input", "send-button", "transfer-button", "end-button", "file-input", "file-button", "canned-button"]) {
      $(id).disabled = Boolean(session.ended);
    }
    $("composer").classList.toggle("disabled", Boolean(session.ended));
    app.updateComposerLimit();
    app.customer.renderSession(session);
    app.renderMessages(session);
  };

  // Where a node goes in the chat: message n at 2n, a message being sent (or not sent) after
  // message n at 2n + 1, so that later messages come after it and it never sticks to the bottom.
  app.orderKey = (node) => (node.dataset.seq !== undefined ? 2 * Number(node.dataset.seq) : 2 * Number(node.dataset.afterSeq) + 1);

  app.placeNode = (node) => {
    const list = $("messages");
    const key = app.orderKey(node);
    const next = [...list.children].find((other) => other !== node && app.orderKey(other) > key);
    list.insertBefore(node, next || null);
  };

  app.renderMessages = (session) => {
    const ordered = [...session.messages.values()].filter(app.isVisible).sort((a, b) => a.seq - b.seq);
    const nodes = ordered.map((message) => app.messageNode(message, session));
    for (const item of app.pending.filter((entry) => entry.sessionId === session.id)) nodes.push(app.pendingNode(item));
    // A stable sort: pending messages after the same message keep the order they were sent in.
    nodes.sort((a, b) => app.orderKey(a) - app.orderKey(b));
    $("messages").replaceChildren(...nodes);
    app.scrollToEnd(true);
  };

  app.insertMessage = (message, session) => {
    if (!app.isVisible(message)) return;
    const list = $("messages");
    const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    app.placeNode(app.messageNode(message, session));
    for (const item of list.querySelectorAll("li.pending")) {
      if (!app.pending.some((entry) => String(entry.localId) === item.dataset.localId)) item.remove();
    }
    app.scrollToEnd(stick || message.direction === "out");
    app.markRead();
  };

  app.scrollToEnd = (force) => {
    const list = $("messages");
    if (force) list.scrollTop = list.scrollHeight;
  };

  app.select = (id) => {
    const previous = app.session(app.activeId);
    if (previous) {
      app.drafts.set(previous.id, $("composer-input").value);
      if (previous.ended) app.forgetSession(previous.id);
    }
    app.activeId = id === null ? null : Number(id);
    const session = app.session(app.activeId);
    if (session) session.fresh = false;
    $("composer-input").value = (session && app.drafts.get(session.id)) || "";
    app.render();
    if (session) {
      app.panels.loadHistory(session);
      app.customer.load(session);
      $("composer-input").focus();
    }
    app.markRead();
  };

  app.render = () => {
    if (app.activeId !== null && !app.session(app.activeId)) app.activeId = null;
    app.renderList();
    app.renderChat();
  };

  // Status

  app.updateSeat = (fields) => {
    Object.assign(app.seat, fields);
    for (const button of document.querySelectorAll(".status-switch button")) {
      button.setAttribute("aria-checked", String(button.dataset.status === app.seat.status));
    }
    document.body.dataset.status = app.seat.status;
    app.renderList();
  };

  app.setStatus = async (status) => {
    app.statusRequested = status; // a change the server then announces is ours, not a supervisor's
    const banner = $("banner");
    if (banner.dataset.reason === "supervisor") {
      banner.hidden = true;
      delete banner.dataset.reason;
    }
    try {
      const result = await app.link.request("status", { status });
      app.updateSeat(result.seat);
    } catch (error) {
      app.toast(app.errorText(error), "error");
    }
  };

  // Sending. One limit for every text, the IM server's (config.textMaxLength, in characters as the
  // server counts them: code points, so an emoji is one). The server checks it again.

  const numberFormat = new Intl.NumberFormat(document.documentElement.lang);
  const COUNTER_FROM = 0.8; // the counter shows from 80 % of the limit

  app.textLength = (text) => {
    let length = text.length;
    for (let i = 1; i < text.length; i += 1) {
      const code = text.charCodeAt(i);
      const before = text.charCodeAt(i - 1);
      if (code >= 0xdc00 && code <= 0xdfff && before >= 0xd800 && before <= 0xdbff) length -= 1; // a surrogate pair
    }
    return length;
  };

  app.tooLongText = () => app.fmt(T.tooLong, { max: numberFormat.format(config.textMaxLength) });

  // The counter near the limit, the warning past it, and the send button.
  app.updateComposerLimit = () => {
    const input = $("composer-input");
    const text = input.value.trim();
    const limit = config.textMaxLength;
    // A string's length in UTF-16 units is never below its length in characters: short texts are not counted.
    const length = text.length > limit * COUNTER_FROM ? app.textLength(text) : text.length;
    const over = length > limit;
    const counter = $("composer-counter");
    counter.hidden = length <= limit * COUNTER_FROM;
    counter.textContent = `${numberFormat.format(length)} / ${numberFormat.format(limit)}`;
    counter.classList.toggle("over", over);
    const warning = $("composer-limit");
    if (warning.hidden === over) {
      warning.hidden = !over;
      warning.textContent = over ? app.tooLongText() : "";
    }
    input.setAttribute("aria-invalid", String(over));
    const session = app.session(app.activeId);
    $("send-button").disabled = over || !session || Boolean(session.ended);
    return over;
  };

  app.pendingNode = (item) => {
    const failed = item.state === "failed";
    const node = app.el("li", `msg msg-out pending ${item.state}`);
    node.dataset.localId = item.localId;
    node.dataset.afterSeq = item.afterSeq;
    node.append(app.el("div", "msg-meta", failed ? app.fmt(T.notSent, { reason: item.reason }) : T.sending));
    const bubble = app.el("div", "bubble");
    bubble.append(app.el("div", "text", item.text));
    node.append(bubble);
    if (failed) {
      const actions = app.el("div", "msg-actions");
      const retry = app.el("button", "btn btn-small retry", T.retry);
      retry.type = "button";
      retry.title = T.retryTitle;
      const session = app.session(item.sessionId);
      retry.disabled = !session || Boolean(session.ended);
      retry.addEventListener("click", () => app.retry(item));
      const copy = app.el("button", "btn btn-small copy", T.copy);
      copy.type = "button";
      copy.title = T.copyTitle;
      copy.addEventListener("click", () => app.copyText(item.text));
      actions.append(retry, copy);
      node.append(actions);
    }
    return node;
  };

  app.pendingNodeOf = (item) => document.querySelector(`li.pending[data-local-id="${item.localId}"]`);

  app.showPending = (item) => {
    if (item.sessionId !== app.activeId) return;
    const old = app.pendingNodeOf(item);
    const node = app.pendingNode(item);
    if (old) old.replaceWith(node);
    else app.placeNode(node);
  };

  app.dropPending = (item) => {
    app.pending = app.pending.filter((entry) => entry !== item);
    app.pendingNodeOf(item)?.remove();
  };

  // The text in a session's message box: the box itself for the open session, else its draft.
  app.composerText = (sessionId) => (sessionId === app.activeId ? $("composer-input").value : app.drafts.get(sessionId) || "");
  app.setComposerText = (sessionId, text) => {
    if (sessionId === app.activeId) {
      $("composer-input").value = text;
      app.updateComposerLimit();
    } else if (text) app.drafts.set(sessionId, text);
    else app.drafts.delete(sessionId);
  };

  app.deliver = async (item) => {
    try {
      const result = await app.link.request("reply", { session_id: item.sessionId, text: item.text });
      item.seq = result.seq;
      const session = app.session(item.sessionId);
      if (!session || session.messages.has(result.seq)) app.dropPending(item);
      // Sent: other copies of this text that failed are sent now too, and the text left in the box is done.
      for (const other of app.pending.filter((entry) => entry !== item && entry.sessionId === item.sessionId)) {
        if (other.state === "failed" && other.text === item.text) app.dropPending(other);
      }
      if (app.composerText(item.sessionId).trim() === item.text) app.setComposerText(item.sessionId, "");
    } catch (error) {
      item.state = "failed";
      item.reason = app.errorText(error);
      app.showPending(item);
      // The text is kept: back in the message box unless something else was typed there meanwhile.
      if (!app.composerText(item.sessionId).trim()) app.setComposerText(item.sessionId, item.text);
    }
  };

  app.sendText = (sessionId, text) => {
    const session = app.session(sessionId);
    const item = {
      localId: Date.now() + Math.random(),
      sessionId,
      text,
      state: "sending",
      seq: null,
      reason: "",
      afterSeq: session ? session.lastSeq : 0,
    };
    app.pending.push(item);
    app.showPending(item);
    app.scrollToEnd(sessionId === app.activeId);
    return app.deliver(item);
  };

  // 重试: the same text again, from the same place in the chat.
  app.retry = (item) => {
    const hadFocus = app.pendingNodeOf(item)?.contains(document.activeElement);
    item.state = "sending";
    item.reason = "";
    app.showPending(item);
    if (hadFocus) $("composer-input").focus();
    return app.deliver(item);
  };

  app.copyText = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard API (a page not served over HTTPS): the older way, through a selected text box.
      const box = app.el("textarea", "clipboard-helper");
      box.value = text;
      box.setAttribute("readonly", "");
      document.body.append(box);
      box.select();
      const copied = document.execCommand("copy");
      box.remove();
      if (!copied) {
        app.toast(T.copyFailed, "error");
        return;
      }
    }
    app.toast(T.copied, "success");
  };

  app.sendComposer = () => {
    const input = $("composer-input");
    const text = input.value.trim();
    const session = app.session(app.activeId);
    if (!text || !session || session.ended) return;
    if (app.updateComposerLimit()) {
      app.toast(app.tooLongText(), "error");
      return;
    }
    if (!app.link.connected) {
      app.toast(T.notConnected, "error");
      return;
    }
    input.value = "";
    app.updateComposerLimit();
    app.drafts.delete(session.id);
    app.sendText(session.id, text);
  };

  // Live link

  let resyncTimer = null;
  app.resyncSoon = () => {
    clearTimeout(resyncTimer);
    resyncTimer = setTimeout(app.resync, 150);
  };

  app.resync = async () => {
    const seen = {};
    for (const session of app.sessions.values()) if (!session.ended) seen[session.id] = session.lastSeq;
    try {
      const result = await app.link.request("resync", { sessions: seen });
      app.applySessionList(result.sessions);
      for (const message of result.messages) app.addMessage(message, { live: false });
      for (const id of result.more) await app.fetchMissing(id);
      app.render();
    } catch (error) {
      if (error.code !== "disconnected") app.toast(app.errorText(error), "error");
    }
  };

  const linkLabels = {
    connecting: T.connecting,
    connected: T.connected,
    reconnecting: T.reconnecting,
    failing: T.linkFailing,
    closed: T.disconnected,
  };
  app.onLinkState = (state, delay) => {
    const node = $("link-state");
    node.dataset.state = state;
    let label = linkLabels[state];
    if (state === "reconnecting" && delay) label = app.fmt(T.reconnectingIn, { seconds: Math.ceil(delay / 1000) });
    node.querySelector(".label").textContent = label;
    document.body.dataset.link = state;
    $("send-button").title = state === "connected" ? "" : T.notConnected;
    // A link that keeps failing says so in a banner that stays until a connection holds.
    const banner = $("banner");
    if (state === "failing") {
      banner.textContent = T.linkFailingDetail;
      banner.dataset.reason = "link";
      banner.hidden = false;
    } else if (banner.dataset.reason === "link") {
      banner.hidden = true;
      delete banner.dataset.reason;
    }
  };

  app.onEvent = (event) => {
    if (event.type === "message.new") app.addMessage(event, { live: true });
    else if (event.type === "session.assigned") {
      app.resync().then(() => {
        const session = app.session(event.session_id);
        if (session) {
          session.fresh = session.id !== app.activeId;
          app.renderList();
        }
        if (session && app.nameUnknown(session.info)) {
          // A first contact: their IM profile is read a moment after the assignment. The chime now,
          // the toast with their name as soon as it is known (their IM id only if it takes long).
          app.alerts.chime();
          app.awaitName(session.info.customer_id, (name) => app.alerts.announce(event, name || event.customer_name));
        } else {
          app.alerts.newSession(event, session ? session.info.customer_name : event.customer_name);
        }
      });
      // The customer's IM profile (name, avatar) is usually fetched a moment after the assignment.
      setTimeout(app.resyncSoon, 3000);
    } else if (event.type === "session.closed") {
      const session = app.session(event.session_id);
      if (session) session.closed = true; // a close, not a transfer: a wrap-up can still be written
      const note = event.detail && event.detail.note;
      app.endSession(event.session_id, note ? app.fmt(T.endedBySupervisor, { note }) : T.sessionEnded);
    } else if (event.type === "session.transferred_out") {
      const detail = event.detail || {};
      app.endSession(
        event.session_id,
        detail.requeued
          ? app.fmt(T.requeuedBySupervisor, { note: detail.note || "" })
          : detail.take_over
            ? app.fmt(T.takenOverBy, { name: detail.to_seat })
            : app.fmt(T.transferredTo, { name: detail.to_seat }),
      );
      const banner = $("banner");
      if (detail.requeued && detail.why !== "reassign" && banner.dataset.reason === "supervisor") {
        // The status change came first (the seat is set before its chats go): count them under it.
        app.requeuedCount = (app.requeuedCount || 0) + 1;
        banner.textContent = `${app.statusBanner} ${app.fmt(T.requeuedCount, { count: app.requeuedCount })}`;
      }
    } else if (event.type === "seat.status" && event.seat_id === app.seat.id) {
      if (event.status !== app.seat.status && !event.automatic && event.status !== app.statusRequested) {
        // Not this console's choice nor presence: a supervisor changed it. Say so until the servicer acts.
        const banner = $("banner");
        app.statusBanner = app.fmt(T.statusBySupervisor, { status: T.statusNames[event.status] || event.status });
        app.requeuedCount = 0;
        banner.textContent = app.statusBanner;
        banner.dataset.reason = "supervisor";
        banner.hidden = false;
      }
      app.statusRequested = null;
      app.updateSeat({
        status: event.status,
        automatic: event.automatic,
        active_sessions: event.active_sessions,
        capacity: event.capacity,
      });
    } else if (event.type === "left_message.new" || event.type === "left_message.handled") {
      app.leftMessages.onEvent(event);
    } else if (event.type === "customer.updated") {
      app.customerUpdated(event);
    } else if (event.type === "queue.changed") {
      if (app.queue) app.queue.reloadSoon();
    }
  };

  // A customer's IM profile was read (their first contact): their name replaces their IM id everywhere.
  app.awaitName = (customerId, then, timeoutMs = 2500) => {
    const timer = setTimeout(() => {
      app.nameWaiters.delete(customerId);
      const session = [...app.sessions.values()].find((other) => other.info.customer_id === customerId);
      then(session ? session.info.customer_name : "");
    }, timeoutMs);
    app.nameWaiters.set(customerId, (name) => {
      clearTimeout(timer);
      app.nameWaiters.delete(customerId);
      then(name);
    });
  };

  app.customerUpdated = (event) => {
    const profile = { customer_name: event.customer_name, customer_avatar: event.customer_avatar };
    app.profiles.set(event.customer_id, profile);
    app.nameWaiters.get(event.customer_id)?.(event.customer_name);
    for (const session of app.sessions.values()) {
      if (session.info.customer_id !== event.customer_id) continue;
      session.info = { ...session.info, ...profile };
    }
    app.customer.onCustomerUpdated(event);
    app.leftMessages.reloadSoon();
    app.render();
  };

  app.onFatal = (why) => {
    if (why === "login") {
      window.location.href = `${config.loginUrl}?next=${encodeURIComponent(window.location.pathname)}`;
      return;
    }
    const banner = $("banner");
    banner.textContent = T.noSeat;
    banner.hidden = false;
  };

  // Wiring

  app.start = () => {
    app.panels = window.ConsolePanels.install(app);
    app.leftMessages = window.ConsoleLeftMessages.install(app);
    app.customer = window.ConsoleCustomer.install(app);
    app.avatar($("my-avatar"), app.seat.name, app.seat.avatar);
    app.alerts = app.panels.alerts;
    app.updateSeat(app.seat);
    $("session-list").addEventListener("click", (event) => {
      const button = event.target.closest("[data-session-id]");
      if (button) app.select(button.dataset.sessionId);
    });
    for (const button of document.querySelectorAll(".status-switch button")) {
      button.addEventListener("click", () => app.setStatus(button.dataset.status));
    }
    $("send-button").addEventListener("click", app.sendComposer);
    $("composer-input").addEventListener("input", app.updateComposerLimit);
    window.addEventListener("focus", app.markRead);
    document.addEventListener("visibilitychange", app.markRead);
    setInterval(app.tickWaiting, 1000);
    // A safety net under the live events: a resync now and then costs little and heals anything missed.
    setInterval(() => { if (app.link.connected) app.resyncSoon(); }, 20000);
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    app.link = new window.ConsoleLink({
      url: `${scheme}://${window.location.host}${config.websocketPath}`,
      closeCodes: config.closeCodes,
      onState: app.onLinkState,
      onHello: (frame) => {
        app.updateSeat(frame.seat);
        app.resync();
        app.leftMessages.reloadSoon(); // left messages may have come and gone while disconnected
        if (app.queue) app.queue.reloadSoon(); // and so may queued customers
      },
      onEvent: app.onEvent,
      onFatal: app.onFatal,
    });
    app.link.start();
    app.render();
  };

  document.addEventListener("DOMContentLoaded", app.start);
})();
