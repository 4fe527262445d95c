/* The servicer page: a servicer's Wildfire app, where customers' shadow robots (and anyone else) write. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  let me = null;
  let active = null;
  let stopPolling = null;
  const conversations = new Map(); // peer uid → {messages: [], unread: 0}

  function setError(text) { $("error").textContent = text || ""; }

  function setComposerEnabled(enabled) {
    document.querySelectorAll("#composer button, #composer textarea").forEach((node) => { node.disabled = !enabled; });
  }

  function fillAccounts() {
    const list = $("accounts");
    list.replaceChildren();
    for (const user of WFS.users.values()) {
      if (user.type !== 0) continue;
      const option = WFS.el("option");
      option.value = user.userId;
      option.label = user.displayName || user.name;
      list.append(option);
    }
  }

  function preview(message) {
    const p = message.payload;
    if (p.type === 1 || p.type === 14 || p.type === 15) return p.searchableContent;
    if (p.type === 3) return `[${WFS.t("image")}]`;
    if (p.type === 5) return `[${WFS.t("file")}] ${p.searchableContent}`;
    if (p.type === 90) return p.content;
    if (p.type >= 1101 && p.type <= 1104) return WFS.t(`notice.${p.type}`);
    return "";
  }

  function visible(message) {
    return WFS.renderMessage(message, { me, robotId: null }) !== null;
  }

  function renderMe() {
    const box = $("me");
    box.replaceChildren();
    if (!me) return;
    const user = WFS.users.get(me) || {};
    box.append(WFS.avatar(WFS.displayName(me), user.portrait, true), WFS.el("span", "muted", WFS.t("me.as")),
      WFS.el("span", "name", WFS.displayName(me)));
  }

  function renderConversations() {
    const list = $("conversations");
    list.replaceChildren();
    if (!me) return;
    const entries = [...conversations.entries()].filter(([, c]) => c.messages.some(visible));
    entries.sort((a, b) => b[1].messages.at(-1).timestamp - a[1].messages.at(-1).timestamp);
    if (!entries.length) {
      list.append(WFS.el("li", "muted", WFS.t("servicer.noConversations")));
      return;
    }
    for (const [peer, conversation] of entries) {
      const user = WFS.users.get(peer) || {};
      const item = WFS.el("li", peer === active ? "active" : "");
      item.dataset.peer = peer;
      const meta = WFS.el("div", "meta");
      const title = WFS.el("div", "title");
      const name = WFS.el("span", "", WFS.displayName(peer));
      if (user.type === 1) name.append(" ", WFS.el("span", "robot-tag", WFS.t("robot")));
      title.append(name);
      if (conversation.unread) title.append(WFS.el("span", "badge", String(conversation.unread)));
      const last = [...conversation.messages].reverse().find(visible);
      meta.append(title, WFS.el("div", "preview", last ? preview(last) : ""));
      item.append(WFS.avatar(WFS.displayName(peer), user.portrait), meta);
      item.addEventListener("click", () => openConversation(peer));
      list.append(item);
    }
  }

  function renderChat() {
    const head = $("chat-head");
    const list = $("messages");
    head.replaceChildren();
    list.replaceChildren();
    setComposerEnabled(Boolean(me && active));
    if (!me) {
      list.append(WFS.el("div", "empty", WFS.t("servicer.none")));
      return;
    }
    if (!active) {
      list.append(WFS.el("div", "empty", WFS.t("servicer.pickConversation")));
      return;
    }
    const user = WFS.users.get(active) || {};
    head.append(WFS.avatar(WFS.displayName(active), user.portrait),
      WFS.el("div", "title", WFS.t("chat.with", { name: WFS.displayName(active) })));
    const nodes = (conversations.get(active) || { messages: [] }).messages
      .map((m) => WFS.renderMessage(m, { me, robotId: null })).filter(Boolean);
    if (!nodes.length) list.append(WFS.el("div", "empty", WFS.t("chat.empty")));
    list.append(...nodes);
    list.scrollTop = list.scrollHeight;
  }

  function renderAll() {
    renderMe();
    renderConversations();
    renderChat();
  }

  function openConversation(peer) {
    active = peer;
    const conversation = conversations.get(peer);
    if (conversation) conversation.unread = 0;
    const url = new URL(location.href);
    url.searchParams.set("peer", peer);
    history.replaceState(null, "", url);
    renderConversations();
    renderChat();
  }

  async function onMessages(batch) {
    let unknown = false;
    for (const message of batch) {
      if (message.conv.type !== 0) continue;
      const peer = WFS.peerOf(message, me);
      if (!conversations.has(peer)) conversations.set(peer, { messages: [], unread: 0 });
      const conversation = conversations.get(peer);
      conversation.messages.push(message);
      if (!WFS.users.has(peer)) unknown = true;
      // As a Wildfire client: only what carries the "count" bit of persistFlag (3) counts as unread.
      const counts = message.payload.persistFlag === undefined || (message.payload.persistFlag & 2) !== 0;
      if (peer !== active && message.sender !== me && visible(message) && counts) conversation.unread += 1;
    }
    if (unknown) await WFS.loadUsers();
    if (!active) {
      const wanted = WFS.params.get("peer");
      const first = [...conversations.entries()].filter(([, c]) => c.messages.some(visible))
        .sort((a, b) => b[1].messages.at(-1).timestamp - a[1].messages.at(-1).timestamp)[0];
      if (wanted && conversations.has(wanted)) active = wanted;
      else if (first) active = first[0];
      if (active) conversations.get(active).unread = 0;
    }
    renderConversations();
    renderChat();
  }

  async function openAccount(uid) {
    if (!uid) return;
    if (stopPolling) stopPolling();
    try {
      if (!WFS.users.has(uid)) {
        await WFS.api("/sandbox/api/users", { json: { userId: uid } });
        await WFS.loadUsers();
        fillAccounts();
      }
    } catch (err) {
      setError(WFS.t("error.send", { msg: err.message }));
      return;
    }
    me = uid;
    active = null;
    conversations.clear();
    $("account").value = uid;
    localStorage.setItem("wfs.servicer", uid);
    const url = new URL(location.href);
    url.searchParams.set("user", uid);
    history.replaceState(null, "", url);
    setError("");
    renderAll();
    stopPolling = WFS.pollInbox(me, onMessages, (err) => setError(err ? WFS.t("error.network", { msg: err.message }) : ""));
  }

  async function send(payload) {
    if (!me || !active) return;
    try {
      await WFS.send(me, active, payload);
      setError("");
    } catch (err) {
      setError(WFS.t("error.send", { msg: err.message }));
    }
  }

  function wire() {
    WFS.setupLanguageSwitch($("lang"), renderAll);
    $("account-form").addEventListener("submit", (event) => {
      event.preventDefault();
      openAccount($("account").value.trim());
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("text").value.trim();
      if (!text) return;
      $("text").value = "";
      send({ type: 1, persistFlag: 3, searchableContent: text });
    });
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("send-image").addEventListener("click", () => {
      const url = (prompt(WFS.t("image.prompt")) || "").trim();
      if (url) send({ type: 3, persistFlag: 3, mediaType: 1, remoteMediaUrl: url, searchableContent: "[图片]" });
    });
  }

  async function start() {
    WFS.applyI18n();
    wire();
    setComposerEnabled(false);
    try {
      await WFS.loadUsers();
      fillAccounts();
    } catch (err) {
      setError(WFS.t("error.network", { msg: err.message }));
    }
    const wanted = WFS.params.get("user") || localStorage.getItem("wfs.servicer") || "";
    if (wanted) openAccount(wanted);
    else renderAll();
  }

  start();
})();
