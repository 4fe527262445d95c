/* The customer page: a Wildfire client chatting with the CS Robot (?robot=<id>, default cs_robot). */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const robotId = WFS.params.get("robot") || "cs_robot";
  let me = null;
  let messages = [];
  let stopPolling = null;

  function setError(text) { $("error").textContent = text || ""; }

  function setEnabled(enabled) {
    document.querySelectorAll("#controls button, #composer button, #composer textarea, #rating-score, #rating-comment")
      .forEach((node) => { node.disabled = !enabled; });
  }

  function fillRatingScores() {
    const select = $("rating-score");
    const current = select.value || "5";
    select.replaceChildren();
    for (let n = 5; n >= 1; n -= 1) {
      const option = WFS.el("option", "", WFS.t("rating.score", { n }));
      option.value = String(n);
      select.append(option);
    }
    select.value = current;
  }

  function fillCustomers() {
    const select = $("customer-select");
    select.replaceChildren(WFS.el("option", "", "—"));
    select.firstChild.value = "";
    for (const user of WFS.users.values()) {
      if (user.type !== 0) continue;
      const option = WFS.el("option", "", `${user.displayName || user.name} (${user.userId})`);
      option.value = user.userId;
      select.append(option);
    }
    select.value = me || "";
  }

  function renderHead() {
    const head = $("chat-head");
    head.replaceChildren();
    $("robot-hint").textContent = `robot: ${robotId}`;
    if (!me) return;
    // The header follows the latest robot message: its servicer while one is assigned, else the robot.
    const lastFromRobot = [...messages].reverse().find((m) => m.sender === robotId && m.payload.type < 1000);
    const servicer = lastFromRobot ? WFS.servicerOf(lastFromRobot.payload) : null;
    const name = servicer ? servicer.name : WFS.displayName(robotId);
    const portrait = servicer ? servicer.avatar : (WFS.users.get(robotId) || {}).portrait;
    head.append(WFS.avatar(name, portrait), WFS.el("div", "title", WFS.t("chat.with", { name })));
  }

  function renderMe() {
    const box = $("me");
    box.replaceChildren();
    if (!me) return;
    const user = WFS.users.get(me) || {};
    box.append(WFS.avatar(WFS.displayName(me), user.portrait, true), WFS.el("span", "muted", WFS.t("me.as")),
      WFS.el("span", "name", WFS.displayName(me)));
  }

  function renderMessages() {
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
    list.replaceChildren();
    if (!me) {
      list.append(WFS.el("div", "empty", WFS.t("customer.none")));
      return;
    }
    const nodes = messages.map((m) => WFS.renderMessage(m, { me, robotId })).filter(Boolean);
    if (!nodes.length) list.append(WFS.el("div", "empty", WFS.t("chat.empty")));
    list.append(...nodes);
    if (atBottom || nodes.length) list.scrollTop = list.scrollHeight;
  }

  function renderAll() {
    fillRatingScores();
    fillCustomers();
    renderMe();
    renderHead();
    renderMessages();
  }

  async function onMessages(batch) {
    let unknown = false;
    for (const message of batch) {
      if (message.conv.type !== 0 || WFS.peerOf(message, me) !== robotId) continue;
      messages.push(message);
      if (!WFS.users.has(message.sender)) unknown = true;
      if (message.sender === robotId && message.payload.type === WFS.NOTICE.RATING_REQUEST) {
        $("controls").classList.add("highlight");
      }
    }
    if (unknown) await WFS.loadUsers();
    renderHead();
    renderMessages();
  }

  function selectCustomer(uid) {
    if (stopPolling) stopPolling();
    me = uid || null;
    messages = [];
    const url = new URL(location.href);
    if (me) url.searchParams.set("customer", me); else url.searchParams.delete("customer");
    history.replaceState(null, "", url);
    if (me) localStorage.setItem("wfs.customer", me);
    setEnabled(Boolean(me));
    setError("");
    $("controls").classList.remove("highlight");
    renderAll();
    if (me) {
      stopPolling = WFS.pollInbox(me, onMessages, (err) => setError(err ? WFS.t("error.network", { msg: err.message }) : ""));
    }
  }

  async function send(payload) {
    if (!me) return;
    try {
      await WFS.send(me, robotId, payload);
      setError("");
    } catch (err) {
      setError(WFS.t("error.send", { msg: err.message }));
    }
  }

  function sendControl(type, data) {
    return send({ type, persistFlag: 0, content: JSON.stringify(data || {}) });
  }

  function wire() {
    WFS.setupLanguageSwitch($("lang"), renderAll);
    $("customer-select").addEventListener("change", (event) => selectCustomer(event.target.value));
    $("new-customer").addEventListener("click", async () => {
      try {
        const user = await WFS.api("/sandbox/api/users", { json: { displayName: $("new-customer-name").value.trim() } });
        $("new-customer-name").value = "";
        await WFS.loadUsers();
        selectCustomer(user.userId);
      } catch (err) {
        setError(WFS.t("error.send", { msg: err.message }));
      }
    });
    document.querySelectorAll("[data-control]").forEach((button) => {
      button.addEventListener("click", () => sendControl(Number(button.dataset.control)));
    });
    $("rate").addEventListener("click", async () => {
      await sendControl(WFS.CONTROL.RATING, { score: Number($("rating-score").value), comment: $("rating-comment").value.trim() });
      $("rating-comment").value = "";
      $("controls").classList.remove("highlight");
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
    try {
      await WFS.loadUsers();
    } catch (err) {
      setError(WFS.t("error.network", { msg: err.message }));
    }
    const wanted = WFS.params.get("customer") || localStorage.getItem("wfs.customer") || "";
    selectCustomer(WFS.users.has(wanted) ? wanted : "");
  }

  start();
})();
