/* The console's queue panel: every customer waiting for a servicer, oldest first, with their
 * position, waiting time and first message. An online servicer with room takes the next one or a
 * chosen one; a refusal (someone else was first, no room, not online) shows the server's reason.
 * When a waiting customer chose a skill group, the panel offers a filter (all, each group of the
 * seat, no group; app.config.seatGroups) and marks the customers this seat serves by the group
 * rules (the API's may_take: "Take next" may give them to it; may_take_in_seconds flips the mark when
 * the customer's group overflows); any row may still be taken by hand.
 * "queue.changed" events and every (re)connect reload it. Its words are on the panel's data
 * attributes (translated by the template), and in the console's strings. Installs itself after console.js.
 */
"use strict";

window.ConsoleQueue = {
  install(app) {
    const $ = (id) => document.getElementById(id);
    const box = $("queue-box");
    const S = box.dataset;
    const state = { rows: [], loadedAt: 0, busy: false, filter: "" };
    const NO_GROUP = "none";
    const filterSelect = $("queue-filter");

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
      if (grouped()) {
        // Rows without may_take (an older server) count as the seat's, as before groups.
        const mine = row.may_take !== false;
        node.classList.add(mine ? "queue-item-mine" : "queue-item-other");
        node.title = mine ? S.tYoursTitle : S.tOtherTitle;
        if (mine) who.append(app.el("span", "queue-mine", S.tYours));
      }
      if (row.first_message) node.append(app.el("div", "queue-text", row.first_message));
      return node;
    }

    // Groups matter to the panel only while some waiting customer chose one.
    const grouped = () => state.rows.some((row) => row.skill_group_id !== null && row.skill_group_id !== undefined);

    function shown(row) {
      if (!state.filter) return true;
      if (state.filter === NO_GROUP) return row.skill_group_id === null || row.skill_group_id === undefined;
      return String(row.skill_group_id) === state.filter;
    }

    function renderFilter() {
      const show = grouped();
      $("queue-filter-bar").hidden = !show;
      if (!show) {
        state.filter = "";
        return;
      }
      if (filterSelect.options.length) return; // built once: the seat's groups come with the page
      const choices = [
        ["", S.tAllGroups],
        ...(app.config.seatGroups || []).map((group) => [String(group.id), group.name]),
        [NO_GROUP, S.tNoGroup],
      ];
      for (const [value, label] of choices) filterSelect.append(new Option(label, value));
      filterSelect.value = state.filter;
    }

    function render() {
      renderFilter();
      const rows = state.rows.filter(shown);
      $("queue-list").replaceChildren(...rows.map(itemNode));
      $("queue-count").textContent = String(state.rows.length);
      $("queue-empty").hidden = state.rows.length > 0;
      $("queue-filtered-empty").hidden = state.rows.length === 0 || rows.length > 0;
      $("queue-take-next").disabled = state.busy || state.rows.length === 0;
    }

    function tick() {
      // A customer whose group has now overflowed is one "Take next" may give this seat.
      const sinceLoad = Date.now() - state.loadedAt;
      const overflowed = state.rows.filter(
        (row) => row.may_take === false && row.may_take_in_seconds != null && sinceLoad >= row.may_take_in_seconds * 1000
      );
      if (overflowed.length) {
        for (const row of overflowed) row.may_take = true;
        render();
      }
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
    filterSelect.addEventListener("change", () => {
      state.filter = filterSelect.value;
      render();
    });
    setInterval(tick, 1000);
    reloadSoon();
    return { reloadSoon };
  },
};

document.addEventListener("DOMContentLoaded", () => {
  window.ConsoleApp.queue = window.ConsoleQueue.install(window.ConsoleApp);
});
