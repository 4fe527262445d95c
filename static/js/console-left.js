/* The console's left messages: what customers left when nobody could serve them, one list shared
 * by every servicer, oldest first. Loaded when the console opens and after every (re)connect;
 * "left_message.new" and "left_message.handled" events reload it. Installed by console.js.
 */
"use strict";

window.ConsoleLeftMessages = {
  install(app) {
    const { T } = app;
    const $ = (id) => document.getElementById(id);
    const PAGE_SIZE = 50;
    const state = { rows: [], count: 0, loaded: false, busy: new Set(), answers: new Map() };

    async function load() {
      let body;
      try {
        body = await app.fetchJson(`${app.config.api.leftMessages}?page_size=${PAGE_SIZE}`);
      } catch (error) {
        if (!state.loaded) app.toast(error.reason, "error");
        return;
      }
      state.rows = body.results;
      state.count = body.count;
      state.loaded = true;
      render();
    }

    let reloadTimer = null;
    function reloadSoon() {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(load, 150);
    }

    function itemNode(row) {
      const node = app.el("li", "left-item");
      node.dataset.leftId = row.id;
      const head = app.el("div", "left-head");
      const avatar = app.el("span", "avatar avatar-sm");
      app.avatar(avatar, row.customer_name, row.customer_avatar);
      const who = app.el("div", "left-who");
      who.append(app.el("span", "left-name", row.customer_name));
      // The IM id beside the name, to contact the customer; alone only while the name is unknown.
      if (row.customer_name !== row.customer_im_user_id) who.append(app.el("span", "left-im muted small", row.customer_im_user_id));
      const at = Date.parse(row.created_at);
      const when = app.el("time", "muted small", app.time(at));
      when.dateTime = row.created_at;
      when.title = app.dateTime(at);
      head.append(avatar, who, when);
      const button = app.el("button", "btn btn-small left-handle", T.leftHandle);
      button.type = "button";
      button.disabled = state.busy.has(row.id);
      button.addEventListener("click", () => handle(row.id));
      // An answer goes to the customer through the CS Robot and marks the message handled.
      const answer = app.el("textarea", "left-answer");
      answer.rows = 2;
      answer.maxLength = app.config.textMaxLength;
      answer.placeholder = T.leftAnswerPlaceholder;
      answer.setAttribute("aria-label", T.leftAnswerPlaceholder);
      answer.value = state.answers.get(row.id) || "";
      answer.addEventListener("input", () => state.answers.set(row.id, answer.value));
      const send = app.el("button", "btn btn-small btn-primary left-answer-send", T.leftAnswerSend);
      send.type = "button";
      send.disabled = state.busy.has(row.id);
      send.addEventListener("click", () => answerSend(row.id));
      const actions = app.el("div", "left-actions");
      actions.append(send, button);
      node.append(head, app.el("div", "left-text", row.text), answer, actions);
      return node;
    }

    function render() {
      $("left-list").replaceChildren(...state.rows.map(itemNode));
      $("left-empty").hidden = !state.loaded || state.rows.length > 0;
      const more = $("left-more");
      more.hidden = state.count <= state.rows.length;
      more.textContent = app.fmt(T.leftShown, { shown: state.rows.length, count: state.count });
      const badge = $("left-count");
      badge.hidden = state.count === 0;
      badge.textContent = state.count > 99 ? "99+" : String(state.count);
    }

    async function handle(id) {
      state.busy.add(id);
      render();
      try {
        await app.fetchJson(app.apiUrl("leftMessageHandle", id), { method: "POST" });
        state.rows = state.rows.filter((row) => row.id !== id);
        state.count = Math.max(0, state.count - 1);
        app.toast(T.leftHandled, "success");
      } catch (error) {
        app.toast(error.status === 409 ? T.leftAlreadyHandled : error.reason, "error");
      } finally {
        state.busy.delete(id);
      }
      render();
      reloadSoon();
    }

    async function answerSend(id) {
      const text = (state.answers.get(id) || "").trim();
      if (!text) {
        app.toast(T.leftAnswerEmpty, "error");
        return;
      }
      state.busy.add(id);
      render();
      try {
        await app.fetchJson(app.apiUrl("leftMessageAnswer", id), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ text }),
        });
        state.answers.delete(id);
        state.rows = state.rows.filter((row) => row.id !== id);
        state.count = Math.max(0, state.count - 1);
        app.toast(T.leftAnswered, "success");
      } catch (error) {
        app.toast(error.reason, "error"); // the text stays in the box
      } finally {
        state.busy.delete(id);
      }
      render();
      reloadSoon();
    }

    function onEvent(event) {
      if (event.type === "left_message.new") {
        const text = event.text.length > 60 ? `${event.text.slice(0, 60)}…` : event.text;
        app.toast(app.fmt(T.leftNew, { name: event.customer_name, text }));
      }
      reloadSoon();
    }

    // The tabs of the left pane: sessions in progress, left messages.

    function show(tab) {
      const left = tab === "left";
      $("tab-sessions").setAttribute("aria-selected", String(!left));
      $("tab-left").setAttribute("aria-selected", String(left));
      $("sessions-panel").hidden = left;
      $("left-panel").hidden = !left;
    }
    $("tab-sessions").addEventListener("click", () => show("sessions"));
    $("tab-left").addEventListener("click", () => show("left"));

    reloadSoon();
    return { reloadSoon, onEvent, show };
  },
};
