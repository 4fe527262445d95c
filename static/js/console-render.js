/* How the console shows things: avatars, times, messages of each content type, previews.
 * Installed on the console app by console.js; plain DOM, text always set as text (never HTML).
 */
"use strict";

window.ConsoleRender = {
  install(app) {
    const { T } = app;
    const CONTROL_TYPES_FROM = 1000; // customer-service control messages: kept in the transcript, never shown

    app.el = (tag, className, text) => {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined) node.textContent = text;
      return node;
    };

    app.avatar = (node, name, url) => {
      node.replaceChildren();
      node.dataset.name = name;
      if (url) {
        const img = app.el("img");
        img.src = url;
        img.alt = "";
        node.append(img);
      } else {
        node.textContent = (name || "?").trim().slice(0, 1).toUpperCase();
        let hash = 0;
        for (const char of name || "") hash = (hash * 31 + char.codePointAt(0)) % 360;
        node.style.background = `hsl(${hash} 55% 52%)`;
      }
    };

    const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    const dateTimeFormat = new Intl.DateTimeFormat(document.documentElement.lang, {
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    });
    app.time = (ms) => {
      const date = new Date(ms);
      return date.toDateString() === new Date().toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
    };
    app.dateTime = (ms) => dateTimeFormat.format(new Date(ms));

    // Messages: what each looks like. URLs come from the customer's client: only http(s) is followed.

    app.safeUrl = (url) => (/^https?:\/\//i.test(url || "") ? url : "");

    // A text with its http(s) addresses as links (a new tab, no opener, no referrer); all else stays text.
    const LINK = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/gi;
    app.linkedText = (text) => {
      const node = app.el("div", "text");
      let last = 0;
      for (const match of text.matchAll(LINK)) {
        const url = match[0].replace(/[.,;:!?)\]}'"]+$/, "");
        if (!app.safeUrl(url) || url.length <= match[0].indexOf("//") + 2) continue;
        node.append(text.slice(last, match.index));
        const link = app.el("a", "msg-link", url);
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        node.append(link);
        last = match.index + url.length;
      }
      node.append(text.slice(last));
      return node;
    };

    app.servicerName = (payload) => {
      try {
        return JSON.parse(payload.extra || "{}").cs.servicer.name;
      } catch {
        return T.servicer;
      }
    };

    app.isVisible = (message) => message.content_type < CONTROL_TYPES_FROM;

    app.messageBody = (message) => {
      const payload = message.payload || {};
      const type = message.content_type;
      if (type === 1) return app.linkedText(payload.searchableContent || "");
      if (type === 3 && app.safeUrl(payload.remoteMediaUrl)) {
        const url = app.safeUrl(payload.remoteMediaUrl);
        const link = app.el("a", "image");
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener";
        const img = app.el("img");
        img.src = payload.base64edData ? `data:image/jpeg;base64,${payload.base64edData}` : url;
        if (payload.base64edData) img.addEventListener("load", () => { img.src = url; }, { once: true });
        img.alt = T.image;
        img.loading = "lazy";
        link.append(img);
        return link;
      }
      if (type === 5) {
        const link = app.el("a", "file");
        const url = app.safeUrl(payload.remoteMediaUrl);
        if (url) link.href = url;
        link.target = "_blank";
        link.rel = "noopener";
        link.append(app.el("span", "file-icon"));
        const label = app.el("span", "file-label");
        label.append(app.el("strong", "", payload.searchableContent || T.file));
        const size = Number(payload.content || 0);
        if (size) label.append(app.el("span", "muted small file-size", app.fileSize(size)));
        link.append(label);
        return link;
      }
      if (type === 90) return app.el("div", "text", payload.content || "");
      return app.el("div", "text muted", app.fmt(T.unsupported, { type }));
    };

    // 19 -> "19 B", 1536 -> "1.5 KB", 20480 -> "20 KB", 3.2 MB: one decimal below ten units, none above.
    app.fileSize = (bytes) => {
      const units = ["B", "KB", "MB", "GB"];
      let value = bytes;
      let unit = 0;
      while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit += 1;
      }
      const shown = unit === 0 || value >= 10 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
      return `${shown} ${units[unit]}`;
    };

    // A supervisor's whisper: for this servicer only (the customer never gets it), shown apart.
    app.whisperNode = (message) => {
      const node = app.el("li", "msg msg-whisper");
      node.dataset.seq = message.seq;
      let name = "";
      try {
        name = JSON.parse(message.payload.extra || "{}").cs.whisper.name;
      } catch {
        name = "";
      }
      node.append(app.el("div", "msg-meta", `${app.fmt(T.whisperFrom, { name })} · ${app.time(message.server_timestamp)}`));
      const bubble = app.el("div", "bubble");
      bubble.append(app.messageBody(message));
      node.append(bubble);
      return node;
    };

    app.messageNode = (message, session) => {
      if (message.direction === "internal") return app.whisperNode(message);
      const note = message.author === "system" || message.author === "bot" || message.content_type === 90;
      const outgoing = message.direction === "out";
      const node = app.el("li", `msg ${note ? "msg-note" : outgoing ? "msg-out" : "msg-in"}`);
      node.dataset.seq = message.seq;
      let who = session.info.customer_name;
      if (message.author === "servicer") who = app.servicerName(message.payload);
      if (message.author === "bot") who = T.bot;
      if (message.author === "system") who = T.system;
      node.append(app.el("div", "msg-meta", `${who} · ${app.time(message.server_timestamp)}`));
      const bubble = app.el("div", "bubble");
      bubble.append(app.messageBody(message));
      node.append(bubble);
      return node;
    };

    app.duration = (ms) => {
      const seconds = Math.max(0, Math.floor(ms / 1000));
      const minutes = Math.floor(seconds / 60);
      if (minutes >= 60) return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
      return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
    };

    app.preview = (session) => {
      const ordered = [...session.messages.values()].filter(app.isVisible).sort((a, b) => b.seq - a.seq);
      const last = ordered[0];
      if (!last) return "";
      const payload = last.payload || {};
      if (last.content_type === 3) return T.image;
      if (last.content_type === 5) return `${T.file} ${payload.searchableContent || ""}`;
      return payload.searchableContent || payload.content || "";
    };
  },
};
