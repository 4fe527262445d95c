/* The console's side panels and dialogs: alerts, the customer's earlier sessions, transfer,
 * canned replies (the "/" picker and the manager) and uploads. Installed by console.js.
 */
"use strict";

window.ConsolePanels = {
  install(app) {
    const { T } = app;
    const $ = (id) => document.getElementById(id);

    // Alerts: a sound (browsers allow it after the first click on the page) and a desktop
    // notification when the console is not in front.

    const alerts = {
      enabled: false,
      chime() {
        if (!navigator.userActivation || navigator.userActivation.hasBeenActive) {
          const chime = $("chime");
          chime.currentTime = 0;
          chime.play().catch(() => {});
        }
      },
      notify(title, body, tag, sessionId) {
        if (!("Notification" in window) || Notification.permission !== "granted") return;
        if (!document.hidden && document.hasFocus()) return;
        const notification = new Notification(title, { body, tag, icon: "" });
        notification.addEventListener("click", () => {
          window.focus();
          app.select(sessionId);
          notification.close();
        });
      },
      newSession(event, name) {
        alerts.chime();
        alerts.announce(event, name);
      },
      announce(event, name) {
        const note = event.detail && event.detail.note ? ` — ${event.detail.note}` : "";
        const title = event.detail && event.detail.from_seat ? app.fmt(T.transferIn, { name: event.detail.from_seat }) : T.newSession;
        app.toast(`${title}: ${name}${note}`, "success");
        alerts.notify(title, `${name}${note}`, `cs-session-${event.session_id}`, event.session_id);
      },
      customerMessage(session, message) {
        if (session.id === app.activeId && !document.hidden && document.hasFocus()) return;
        const text = message.content_type === 1 ? message.payload.searchableContent : app.preview(session);
        alerts.notify(session.info.customer_name, text, `cs-message-${session.id}`, session.id);
      },
      render() {
        const button = $("alerts-button");
        const permission = "Notification" in window ? Notification.permission : "denied";
        button.classList.toggle("on", alerts.enabled);
        button.querySelector(".label").textContent = alerts.enabled ? T.alertsOn : T.alertsOff;
        button.title = permission === "denied" ? T.notificationsBlocked : T.alertsTitle;
      },
    };
    $("alerts-button").addEventListener("click", async () => {
      alerts.enabled = true;
      if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
      alerts.chime();
      alerts.render();
    });
    document.addEventListener("click", () => { if (!alerts.enabled) { alerts.enabled = true; alerts.render(); } }, { once: true });
    alerts.render();

    // The customer's earlier sessions

    const closeReasons = T.closeReasons;
    async function loadHistory(session) {
      const box = $("history");
      box.replaceChildren(app.el("p", "muted small", T.loading));
      let body;
      try {
        body = await app.fetchJson(`${app.apiUrl("history", session.info.customer_id)}?page_size=10`);
      } catch (error) {
        box.replaceChildren(app.el("p", "muted small", error.reason));
        return;
      }
      if (app.activeId !== session.id) return;
      const earlier = body.results.filter((row) => row.id !== session.id);
      if (!earlier.length) {
        box.replaceChildren(app.el("p", "muted small", T.noHistory));
        return;
      }
      box.replaceChildren(...earlier.map((row) => {
        const details = app.el("details", "history-item");
        const summary = app.el("summary");
        summary.append(app.el("span", "history-date", app.dateTime(Date.parse(row.opened_at))));
        summary.append(app.el("span", "muted small", [row.seat, closeReasons[row.close_reason] || ""].filter(Boolean).join(" · ")));
        details.append(summary);
        const list = app.el("ol", "messages messages-compact");
        const fake = { info: session.info };
        for (const message of row.messages.filter(app.isVisible)) list.append(app.messageNode(message, fake));
        if (!list.children.length) list.append(app.el("li", "muted small", T.noMessages));
        details.append(list);
        return details;
      }));
    }

    // Dialogs

    for (const dialog of document.querySelectorAll("dialog")) {
      for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());
    }

    // Ending a session asks for its wrap-up: console-customer.js.

    $("transfer-button").addEventListener("click", async () => {
      const box = $("transfer-targets");
      box.replaceChildren(app.el("p", "muted small", T.loading));
      $("transfer-note").value = "";
      $("transfer-confirm").disabled = true;
      $("transfer-dialog").showModal();
      let seats;
      try {
        seats = await app.fetchJson(app.config.api.transferTargets);
      } catch (error) {
        box.replaceChildren(app.el("p", "error", error.reason));
        return;
      }
      if (!seats.length) {
        box.replaceChildren(app.el("p", "muted", T.noTargets));
        return;
      }
      box.replaceChildren(...seats.map((seat) => {
        const label = app.el("label", "target");
        const radio = app.el("input");
        radio.type = "radio";
        radio.name = "target";
        radio.value = seat.id;
        radio.dataset.name = seat.display_name;
        radio.addEventListener("change", () => { $("transfer-confirm").disabled = false; });
        const avatar = app.el("span", "avatar avatar-sm");
        app.avatar(avatar, seat.display_name, seat.avatar_url);
        label.append(radio, avatar, app.el("span", "target-name", seat.display_name));
        label.append(app.el("span", "load-pill", `${seat.active_sessions}/${seat.capacity}`));
        return label;
      }));
    });
    $("transfer-confirm").addEventListener("click", async (event) => {
      event.preventDefault();
      const chosen = document.querySelector('#transfer-targets input[name="target"]:checked');
      if (!chosen) return;
      const sessionId = app.activeId;
      try {
        await app.link.request("transfer", {
          session_id: sessionId,
          to_seat_id: Number(chosen.value),
          note: $("transfer-note").value.trim(),
        });
        $("transfer-dialog").close();
        app.toast(app.fmt(T.transferredTo, { name: chosen.dataset.name }), "success");
        app.endSession(sessionId, app.fmt(T.transferredTo, { name: chosen.dataset.name }));
      } catch (error) {
        app.toast(app.errorText(error), "error");
      }
    });

    // Canned replies: "/" at the start of the message box, the picker button, and the manager.

    const canned = { replies: [], matches: [], index: 0 };
    async function loadCanned() {
      canned.replies = await app.fetchJson(app.config.api.cannedList).catch(() => canned.replies);
    }
    const input = $("composer-input");
    const popup = $("canned-popup");

    function showPopup(query) {
      const lowered = query.toLowerCase();
      canned.matches = canned.replies.filter((reply) =>
        reply.shortcut.toLowerCase().startsWith(lowered) || (lowered && reply.text.toLowerCase().includes(lowered)));
      canned.index = 0;
      renderPopup();
    }
    function renderPopup() {
      if (!canned.matches.length) {
        popup.replaceChildren(app.el("div", "canned-empty muted small", canned.replies.length ? T.noCannedMatch : T.noCanned));
      } else {
        popup.replaceChildren(...canned.matches.map((reply, index) => {
          const option = app.el("div", `canned-option${index === canned.index ? " selected" : ""}`);
          option.setAttribute("role", "option");
          option.append(app.el("span", "shortcut", `/${reply.shortcut}`), app.el("span", "canned-text", reply.text));
          if (reply.personal) option.append(app.el("span", "tag", T.personal));
          option.addEventListener("mousedown", (event) => { event.preventDefault(); pick(reply); });
          return option;
        }));
      }
      const manage = app.el("button", "canned-manage link small", T.manageCanned);
      manage.type = "button";
      manage.addEventListener("mousedown", (event) => { event.preventDefault(); hidePopup(); openManager(); });
      popup.append(manage);
      popup.hidden = false;
      popup.querySelector(".selected")?.scrollIntoView({ block: "nearest" });
    }
    function hidePopup() { popup.hidden = true; }
    function pick(reply) {
      input.value = input.value.startsWith("/") ? reply.text : `${input.value}${reply.text}`;
      app.updateComposerLimit();
      hidePopup();
      input.focus();
    }

    input.addEventListener("input", () => {
      const match = /^\/(\S*)$/.exec(input.value);
      if (match) showPopup(match[1]);
      else if (!popup.hidden && input.value.startsWith("/")) hidePopup();
      else if (!input.value) hidePopup();
    });
    input.addEventListener("keydown", (event) => {
      if (event.isComposing || event.keyCode === 229) return; // typing Chinese: Enter picks the characters
      if (!popup.hidden && canned.matches.length) {
        if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const step = event.key === "ArrowDown" ? 1 : -1;
          canned.index = (canned.index + step + canned.matches.length) % canned.matches.length;
          renderPopup();
          return;
        }
        if (event.key === "Enter" || event.key === "Tab") {
          event.preventDefault();
          pick(canned.matches[canned.index]);
          return;
        }
      }
      if (event.key === "Escape") hidePopup();
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        hidePopup();
        app.sendComposer();
      }
    });
    input.addEventListener("blur", () => setTimeout(hidePopup, 150));
    $("canned-button").addEventListener("click", async () => {
      await loadCanned();
      if (popup.hidden) { input.focus(); showPopup(""); } else hidePopup();
    });

    function resetEditor() {
      $("canned-id").value = "";
      $("canned-shortcut").value = "";
      $("canned-text").value = "";
      $("canned-editor-title").textContent = T.newCanned;
    }
    function renderManager() {
      const list = $("canned-manage-list");
      list.replaceChildren(...canned.replies.map((reply) => {
        const item = app.el("li", "canned-row");
        const text = app.el("div", "canned-row-text");
        text.append(app.el("span", "shortcut", `/${reply.shortcut}`), app.el("span", "", reply.text));
        item.append(text);
        if (!reply.personal) {
          item.append(app.el("span", "tag tag-muted", T.shared));
          return item;
        }
        const edit = app.el("button", "link small", T.edit);
        edit.type = "button";
        edit.addEventListener("click", () => {
          $("canned-id").value = reply.id;
          $("canned-shortcut").value = reply.shortcut;
          $("canned-text").value = reply.text;
          $("canned-editor-title").textContent = app.fmt(T.editCanned, { shortcut: reply.shortcut });
        });
        const remove = app.el("button", "link small danger", T.delete);
        remove.type = "button";
        remove.addEventListener("click", async () => {
          try {
            await app.fetchJson(app.apiUrl("cannedDelete", reply.id), { method: "POST" });
            await loadCanned();
            renderManager();
          } catch (error) {
            app.toast(error.reason, "error");
          }
        });
        item.append(edit, remove);
        return item;
      }));
      if (!canned.replies.length) list.append(app.el("li", "muted small", T.noCanned));
    }
    async function openManager() {
      await loadCanned();
      resetEditor();
      renderManager();
      $("canned-dialog").showModal();
    }
    $("canned-reset").addEventListener("click", resetEditor);
    $("canned-save").addEventListener("click", async () => {
      const id = $("canned-id").value;
      const body = JSON.stringify({ shortcut: $("canned-shortcut").value.trim(), text: $("canned-text").value.trim() });
      const url = id ? app.apiUrl("cannedUpdate", id) : app.config.api.cannedCreate;
      try {
        await app.fetchJson(url, { method: "POST", body, headers: { "Content-Type": "application/json" } });
        await loadCanned();
        resetEditor();
        renderManager();
        app.toast(T.saved, "success");
      } catch (error) {
        app.toast(error.reason, "error");
      }
    });

    // Uploads: the file button, pasting an image, dropping a file on the chat.

    async function upload(file) {
      const sessionId = app.activeId;
      if (!file || sessionId === null) return;
      if (file.size > app.config.uploadMaxMb * 1048576) {
        app.toast(app.fmt(T.tooLarge, { mb: app.config.uploadMaxMb }), "error");
        return;
      }
      const state = $("upload-state");
      state.textContent = app.fmt(T.uploading, { name: file.name });
      const form = new FormData();
      form.append("file", file, file.name);
      try {
        await app.fetchJson(app.apiUrl("attach", sessionId), { method: "POST", body: form });
      } catch (error) {
        app.toast(error.reason, "error");
      } finally {
        state.textContent = "";
      }
    }
    $("file-input").addEventListener("change", (event) => {
      upload(event.target.files[0]);
      event.target.value = "";
    });
    input.addEventListener("paste", (event) => {
      const file = [...(event.clipboardData?.files || [])][0];
      if (file) {
        event.preventDefault();
        upload(file);
      }
    });
    const chat = $("chat");
    chat.addEventListener("dragover", (event) => { event.preventDefault(); chat.classList.add("dropping"); });
    chat.addEventListener("dragleave", () => chat.classList.remove("dropping"));
    chat.addEventListener("drop", (event) => {
      event.preventDefault();
      chat.classList.remove("dropping");
      upload(event.dataTransfer.files[0]);
    });

    loadCanned();
    return { alerts, loadHistory };
  },
};
