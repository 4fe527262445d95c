/* The console's keyboard and phone views. One key table (KEYS): the help dialog ("?") is drawn
 * from it, so what is listed is what works. Ctrl+K belongs to the search (console-find.js) and is
 * only listed here, never bound.
 *
 * On a narrow screen (console-phone.css) the list, the chat and the customer panel are three
 * views, one at a time; body[data-phone-view] says which, and the bottom bar switches them.
 */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // combo: the keys as shown; label: a data-t-* string of #keys-dialog; run: what the key does
  // (absent when another part of the console binds it).
  const KEYS = [
    { combo: ["Alt", "↓"], label: "next", key: "ArrowDown", alt: true, run: (app) => step(app, 1) },
    { combo: ["Alt", "↑"], label: "previous", key: "ArrowUp", alt: true, run: (app) => step(app, -1) },
    { combo: ["Ctrl", "K"], label: "search" },
    { combo: ["Esc"], label: "close", key: "Escape", run: (app, event) => closeSomething(app, event) },
    { combo: ["Enter"], label: "send" },
    { combo: ["Shift", "Enter"], label: "newline" },
    { combo: ["/"], label: "canned" },
    { combo: ["Alt", "U"], label: "file", code: "KeyU", alt: true, run: () => pickFile() },
    { combo: ["?"], label: "help", key: "?", outsideFields: true, run: () => showHelp() },
  ];

  const typing = (target) => target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

  const matches = (entry, event) => {
    if (!entry.run) return false;
    if (Boolean(entry.alt) !== event.altKey || event.ctrlKey || event.metaKey) return false;
    if (entry.outsideFields && typing(event.target)) return false;
    return entry.code ? event.code === entry.code : event.key === entry.key;
  };

  function openSessionIds() {
    return [...document.querySelectorAll("#session-list [data-session-id]")].map((node) => Number(node.dataset.sessionId));
  }

  function step(app, by) {
    const ids = openSessionIds();
    if (!ids.length) return false;
    const at = ids.indexOf(app.activeId);
    const next = at === -1 ? (by > 0 ? 0 : ids.length - 1) : (at + by + ids.length) % ids.length;
    app.select(ids[next]);
    return true;
  }

  function setView(view) {
    document.body.dataset.phoneView = view;
    for (const button of document.querySelectorAll(".phone-nav [data-phone-view]")) {
      button.setAttribute("aria-pressed", String(button.dataset.phoneView === view));
    }
  }

  function closeSomething(app, event) {
    if (document.querySelector("dialog[open]")) return false; // the browser closes a modal dialog itself
    const popup = $("canned-popup");
    if (popup && !popup.hidden) return false; // the canned-reply popup closes itself
    const view = document.body.dataset.phoneView;
    if (view === "side") {
      setView("chat");
      return true;
    }
    if (view === "chat" && window.matchMedia("(max-width: 640px)").matches) {
      setView("list");
      const active = document.querySelector(`#session-list [data-session-id="${app.activeId}"]`);
      if (active) active.focus();
      return true;
    }
    if (typing(event.target)) {
      event.target.blur();
      return true;
    }
    return false;
  }

  function pickFile() {
    const button = $("file-button");
    if (!button || button.disabled || $("chat").hidden) return false;
    button.click();
    return true;
  }

  function showHelp() {
    const dialog = $("keys-dialog");
    if (dialog.open) return true;
    dialog.showModal();
    return true;
  }

  function renderHelp() {
    const dialog = $("keys-dialog");
    const list = $("keys-list");
    const rows = [];
    for (const entry of KEYS) {
      const keys = document.createElement("dt");
      entry.combo.forEach((part, index) => {
        if (index) keys.append("+");
        const kbd = document.createElement("kbd");
        kbd.textContent = part;
        keys.append(kbd);
      });
      const what = document.createElement("dd");
      what.textContent = dialog.dataset[`t${entry.label[0].toUpperCase()}${entry.label.slice(1)}`] || entry.label;
      rows.push(keys, what);
    }
    list.replaceChildren(...rows);
  }

  function install() {
    const app = window.ConsoleApp;
    renderHelp();
    $("keys-button").addEventListener("click", showHelp);
    $("file-button").addEventListener("click", () => $("file-input").click());

    document.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.isComposing) return; // an IME is composing Chinese
      const entry = KEYS.find((candidate) => matches(candidate, event));
      if (entry && entry.run(app, event)) event.preventDefault();
    });

    // Phone views: picking a chat opens it; the bar switches between the three.
    setView("list");
    const select = app.select;
    app.select = (id) => {
      select(id);
      if (id !== null) setView("chat");
    };
    for (const button of document.querySelectorAll(".phone-nav [data-phone-view]")) {
      button.addEventListener("click", () => setView(button.dataset.phoneView));
    }
  }

  document.addEventListener("DOMContentLoaded", install);
})();
