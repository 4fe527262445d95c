/* Shared by the sandbox pages: translations, the sandbox API, user lookups and message rendering. */
"use strict";

const WFS = (() => {
  const CONTROL = { ENTER: 1001, TRANSFER_TO_HUMAN: 1002, EXIT: 1003, RATING: 1004, CANCEL_QUEUE: 1005 };
  const NOTICE = { SERVICER_ASSIGNED: 1101, SESSION_CLOSED: 1102, RATING_REQUEST: 1103, QUEUE_POSITION: 1104 };
  const TEXTS = {
    zh: {
      "customer.title": "客服演示 · 顾客", "servicer.title": "客服演示 · 客服的野火IM",
      "lang.switch": "English", "customer.pick": "选择顾客", "customer.new": "新建顾客",
      "customer.newName": "顾客昵称（可不填）", "create": "创建", "open": "打开",
      "customer.none": "请先在左侧选择或新建一个顾客。", "chat.empty": "还没有消息，发一句试试。",
      "chat.with": "正在与 {name} 对话", "robot": "机器人", "send": "发送", "image": "图片",
      "image.prompt": "图片地址（URL）", "composer.placeholder": "输入消息，Enter 发送，Shift+Enter 换行",
      "ctrl.enter": "进入客服", "ctrl.transfer": "转人工", "ctrl.cancel": "取消排队", "ctrl.exit": "结束会话",
      "ctrl.rate": "提交评价", "rating.comment": "评价（可不填）", "rating.score": "{n} 分",
      "servicer.account": "客服的IM账号", "servicer.accountPlaceholder": "如 servicer1",
      "servicer.conversations": "会话", "servicer.noConversations": "暂无会话。顾客转人工后，影子机器人会在这里给你发消息。",
      "servicer.pickConversation": "选择左侧的一个会话。", "servicer.none": "请先输入客服的IM账号并打开。",
      "you": "我", "me.as": "当前身份：", "sent.control": "你发送了：{label}",
      "notice.1101": "已分配客服", "notice.1102": "会话已结束", "notice.1103": "请为本次服务评价",
      "notice.1104": "排队中", "control.1001": "进入客服", "control.1002": "转人工请求",
      "control.1003": "结束会话", "control.1004": "评价", "control.1005": "取消排队",
      "unsupported": "[暂不支持的消息类型 {type}]", "file": "文件", "error.send": "发送失败：{msg}",
      "error.network": "无法连接沙盒：{msg}", "index.title": "野火IM 沙盒",
      "index.customer": "顾客页面：与客服机器人聊天", "index.servicer": "客服的野火IM：回复影子机器人转来的消息",
    },
    en: {
      "customer.title": "Customer service demo · Customer", "servicer.title": "Customer service demo · Servicer's Wildfire IM",
      "lang.switch": "中文", "customer.pick": "Customer", "customer.new": "New customer",
      "customer.newName": "Display name (optional)", "create": "Create", "open": "Open",
      "customer.none": "Pick or create a customer on the left first.", "chat.empty": "No messages yet. Say something.",
      "chat.with": "Chatting with {name}", "robot": "robot", "send": "Send", "image": "Image",
      "image.prompt": "Image URL", "composer.placeholder": "Type a message; Enter sends, Shift+Enter for a new line",
      "ctrl.enter": "Enter service", "ctrl.transfer": "Talk to a human", "ctrl.cancel": "Leave the queue",
      "ctrl.exit": "End session", "ctrl.rate": "Send rating", "rating.comment": "Comment (optional)",
      "rating.score": "{n}/5", "servicer.account": "Servicer's IM account", "servicer.accountPlaceholder": "e.g. servicer1",
      "servicer.conversations": "Conversations",
      "servicer.noConversations": "No conversations yet. After a transfer, customers' shadow robots write to you here.",
      "servicer.pickConversation": "Pick a conversation on the left.", "servicer.none": "Enter a servicer's IM account and open it first.",
      "you": "Me", "me.as": "Signed in as ", "sent.control": "You sent: {label}",
      "notice.1101": "Servicer assigned", "notice.1102": "Session closed", "notice.1103": "Please rate this service",
      "notice.1104": "In the queue", "control.1001": "enter service", "control.1002": "transfer to a human",
      "control.1003": "end session", "control.1004": "rating", "control.1005": "leave the queue",
      "unsupported": "[unsupported message type {type}]", "file": "File", "error.send": "Sending failed: {msg}",
      "error.network": "Cannot reach the sandbox: {msg}", "index.title": "Wildfire IM sandbox",
      "index.customer": "Customer page: chat with the CS Robot", "index.servicer": "Servicer's Wildfire IM: answer the shadow robots",
    },
  };

  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || localStorage.getItem("wfs.lang") || "zh";
  if (!TEXTS[lang]) lang = "zh";

  function t(key, vars) {
    let text = (TEXTS[lang] && TEXTS[lang][key]) || TEXTS.zh[key] || key;
    for (const [name, value] of Object.entries(vars || {})) text = text.replace(`{${name}}`, String(value));
    return text;
  }

  function applyI18n(root) {
    const scope = root || document;
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    scope.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    scope.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    const title = document.querySelector("[data-i18n-title]");
    if (title) document.title = t(title.dataset.i18nTitle);
  }

  function setupLanguageSwitch(button, onChange) {
    button.addEventListener("click", () => {
      lang = lang === "zh" ? "en" : "zh";
      localStorage.setItem("wfs.lang", lang);
      const url = new URL(location.href);
      url.searchParams.delete("lang");
      history.replaceState(null, "", url);
      applyI18n();
      if (onChange) onChange();
    });
  }

  async function api(path, options) {
    const init = Object.assign({ headers: {} }, options || {});
    if (init.json !== undefined) {
      init.method = init.method || "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(init.json);
      delete init.json;
    }
    const response = await fetch(path, init);
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
    return body;
  }

  const users = new Map();
  async function loadUsers() {
    for (const user of await api("/sandbox/api/users")) users.set(user.userId, user);
    return users;
  }
  function displayName(uid) {
    const user = users.get(uid);
    return (user && (user.displayName || user.name)) || uid;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function avatar(name, portrait, small) {
    const box = el("span", small ? "avatar small" : "avatar");
    const initials = () => {
      box.textContent = (name || "?").trim().slice(0, 1).toUpperCase();
      let hash = 0;
      for (const ch of name || "?") hash = (hash * 31 + ch.codePointAt(0)) % 360;
      box.style.background = `hsl(${hash}, 45%, 55%)`;
    };
    if (portrait && /^(https?:|data:|\/)/.test(portrait)) {
      const img = el("img");
      img.alt = "";
      img.src = portrait;
      img.onerror = () => { img.remove(); initials(); };
      box.append(img);
    } else {
      initials();
    }
    return box;
  }

  function parseJson(text) {
    if (!text) return null;
    try { return JSON.parse(text); } catch (_err) { return null; }
  }

  /* A JSON object flattened to "a.b: value" pairs, for the grey notices. */
  function summarise(text) {
    const value = parseJson(text);
    if (value === null || typeof value !== "object") return text || "";
    const parts = [];
    const walk = (obj, prefix) => {
      for (const [key, item] of Object.entries(obj)) {
        const name = prefix ? `${prefix}.${key}` : key;
        if (item && typeof item === "object" && !Array.isArray(item)) walk(item, name);
        else parts.push(`${name}: ${Array.isArray(item) ? item.join("/") : item}`);
      }
    };
    walk(value, "");
    const joined = parts.join(", ");
    return joined.length > 200 ? `${joined.slice(0, 199)}…` : joined;
  }

  /* The agent to show instead of the robot: payload.extra = {"cs":{"servicer":{"name","avatar"}}}. */
  function servicerOf(payload) {
    const extra = parseJson(payload.extra);
    const servicer = extra && extra.cs && extra.cs.servicer;
    return servicer && servicer.name ? { name: String(servicer.name), avatar: String(servicer.avatar || "") } : null;
  }

  function formatTime(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function notice(label, detail, outgoing) {
    const node = el("div", outgoing ? "notice outgoing" : "notice");
    if (label) node.append(el("span", "label", label));
    if (detail) node.append(document.createTextNode(` · ${detail}`));
    return node;
  }

  function messageBody(payload) {
    const type = payload.type;
    if (type === 3) {
      const bubble = el("div", "bubble image");
      const img = el("img", "image");
      img.alt = payload.searchableContent || t("image");
      img.src = payload.remoteMediaUrl || (payload.base64edData ? `data:image/jpeg;base64,${payload.base64edData}` : "");
      bubble.append(img);
      return bubble;
    }
    if (type === 5) {
      const bubble = el("div", "bubble file");
      const link = el("a", "", `📎 ${payload.searchableContent || t("file")}`);
      if (payload.remoteMediaUrl) { link.href = payload.remoteMediaUrl; link.target = "_blank"; link.rel = "noopener"; }
      bubble.append(link);
      const size = parseInt(payload.content, 10);
      if (size > 0) bubble.append(el("div", "muted", size >= 1024 ? `${(size / 1024).toFixed(1)} KB` : `${size} B`));
      return bubble;
    }
    return el("div", "bubble", payload.searchableContent || "");
  }

  /* One inbox message as a node, or null when a Wildfire client would not show it. options: {me, robotId} */
  function renderMessage(message, options) {
    const payload = message.payload;
    const type = payload.type;
    const mine = message.sender === options.me;
    if (type === 90) {
      const tip = notice("", "");
      tip.textContent = payload.content || payload.searchableContent || "";
      tip.dataset.type = "90";
      return tip;
    }
    if (type >= 1101 && type <= 1104) {
      const node = notice(t(`notice.${type}`), summarise(payload.content));
      node.dataset.type = String(type);
      return node;
    }
    if (type >= 1001 && type <= 1005) {
      if (!mine) return null;
      const detail = type === CONTROL.RATING ? summarise(payload.content) : "";
      const node = notice(t("sent.control", { label: t(`control.${type}`) }), detail, true);
      node.dataset.type = String(type);
      return node;
    }
    // 9 is the P-text: stock clients show it in their text cell (it only does not count as unread).
    const known = type === 1 || type === 3 || type === 5 || type === 9 || type === 14 || type === 15;
    if (!known && (payload.persistFlag === 0 || payload.persistFlag === 4)) return null;

    let name = mine ? t("you") : displayName(message.sender);
    let portrait = (users.get(message.sender) || {}).portrait || "";
    const servicer = !mine && message.sender === options.robotId ? servicerOf(payload) : null;
    if (servicer) { name = servicer.name; portrait = servicer.avatar; }

    const row = el("div", mine ? "msg mine" : "msg");
    row.dataset.messageUid = String(message.messageUid);
    row.dataset.type = String(type);
    const body = el("div", "body");
    body.append(el("div", "who", name));
    body.append(known ? messageBody(payload) : el("div", "bubble", t("unsupported", { type })));
    body.append(el("div", "time", formatTime(message.timestamp)));
    row.append(avatar(name, portrait), body);
    return row;
  }

  /* A user's inbox after a messageUid. The uid is a 64-bit integer that JSON.parse would round,
     so it is turned into a string in the raw text first. */
  async function inbox(user, after) {
    const response = await fetch(`/sandbox/api/messages?user=${encodeURIComponent(user)}&after=${after}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    return JSON.parse(text.replace(/"messageUid":(\d+)/g, '"messageUid":"$1"'));
  }

  /* Polls a user's inbox once a second and hands over only the new messages. */
  function pollInbox(user, onMessages, onError) {
    let after = "0";
    let stopped = false;
    let timer = null;
    async function tick() {
      try {
        const batch = await inbox(user, after);
        if (stopped) return;
        if (batch.length) {
          after = String(batch[batch.length - 1].messageUid);
          await onMessages(batch);
        }
        if (onError) onError(null);
      } catch (err) {
        if (onError) onError(err);
      }
      if (!stopped) timer = setTimeout(tick, 1000);
    }
    tick();
    return () => { stopped = true; clearTimeout(timer); };
  }

  /* The other side of a private chat, from this user's point of view. */
  function peerOf(message, me) {
    return message.sender === me ? message.conv.target : message.sender;
  }

  async function send(sender, target, payload) {
    const body = await api("/sandbox/api/client/send", {
      json: { sender, conv: { type: 0, target, line: 0 }, payload },
    });
    if (body.code !== 0) throw new Error(`${body.code} ${body.msg}`);
    return body.result;
  }

  return {
    CONTROL, NOTICE, t, applyI18n, setupLanguageSwitch, api, users, loadUsers, displayName, el, avatar,
    renderMessage, pollInbox, peerOf, send, params, servicerOf,
  };
})();
