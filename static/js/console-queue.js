/* The console's queue panel: every customer waiting for a servicer, oldest first, with their
 * position, waiting time and first message. An online servicer with room takes the next one or a
 * chosen one; a refusal (someone else was first, no room, not online) shows the server's reason.
 * "queue.changed" events and every (re)connect reload it. Its words are on the panel's data
 * attributes (translated by the template), and in the console's strings. Installs itself after console.js.
 */
"use strict";

window.ConsoleQueue = {
  install(app) {
    const $ = (id) => document.getElementById(id);
    const box = $("queue-box");
    const S = box.dataset;
    const state = { rows: [], loadedAt: 0, busy: false };

    async function load() {
      try {
        state.rows = await app.fetchJson(app.config.api.queue);
        state.loadedAt = Date.now();
      } catch (error) {
        return; // the next event or reconnect reloads it
      }
      render();
    }

    let reloadTimer = null;
    function reloadSoon() {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(load, 150);
    }

    const waitedMs = (row) => row.waiting_seconds * 1000 + (Date.now() - state.loadedAt);

    function itemNode(row) {
      const node = app.el("li", "queue-item");
      node.dataset.queueSessionId = row.session_id;
      const head = app.el("div", "queue-head");
      const avatar = app.el("span", "avatar avatar-sm");
      app.avatar(avatar, row.customer_name, row.customer_avatar);
      const who = app.el("div", "queue-who");
      who.append(
        app.el("span", "queue-name", `${row.position}. ${row.customer_name}`),
        app.el("span", "queue-waited muted small", app.duration(waitedMs(row)))
      );
      const take = app.el("button", "btn btn-small queue-take", S.tTake);
      take.type = "button";
      take.title = S.tTakeTitle;
      take.disabled = state.busy;
      take.addEventListener("click", () => takeCustomer(app.apiUrl("queueTake", row.session_id)));
      head.append(avatar, who, take);
      node.append(head);
      if (row.skill_group) node.append(app.el("div", "queue-group muted small", row.skill_group));
      if (row.first_message) node.append(app.el("div", "queue-text", row.first_message));
      return node;
    }

    function render() {
      $("queue-list").replaceChildren(...state.rows.map(itemNode));
      $("queue-count").textContent = String(state.rows.length);
      $("queue-empty").hidden = state.rows.length > 0;
      $("queue-take-next").disabled = state.busy || state.rows.length === 0;
    }

    function tick() {
      for (const node of document.querySelectorAll("#queue-list .queue-item")) {
        const row = state.rows.find((entry) => String(entry.session_id) === node.dataset.queueSessionId);
        if (row) node.querySelector(".queue-waited").textContent = app.duration(waitedMs(row));
      }
    }

    async function takeCustomer(url) {
      state.busy = true;
      render();
      try {
        const taken = await app.fetchJson(url, { method: "POST" });
        app.toast(app.fmt(app.T.queueTaken, { name: taken.customer_name }), "success");
        await app.resync();
        if (app.session(taken.session_id)) app.select(taken.session_id);
      } catch (error) {
        app.toast(error.reason, "error");
      } finally {
        state.busy = false;
      }
      render();
      reloadSoon();
    }

    $("queue-take-next").addEventListener("click", () => takeCustomer(app.config.api.queueTakeNext));
    setInterval(tick, 1000);
    reloadSoon();
    return { reloadSoon };
  },
};

document.addEventListener("DOMContentLoaded", () => {
  window.ConsoleApp.queue = window.ConsoleQueue.install(window.ConsoleApp);
});
