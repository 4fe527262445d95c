/* The customer, remembered: the side panel's tags and notes (shared by every servicer, kept across
 * chats) and the wrap-up (tags and a summary) asked for when a chat ends. Installed by console.js.
 */
"use strict";

window.ConsoleCustomer = {
  install(app) {
    const { T } = app;
    const $ = (id) => document.getElementById(id);
    const json = (body) => ({ method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    const state = { card: null, customerId: null, editing: null };

    // Tag suggestions: the tags in use, matching what is typed (one <datalist> for every tag field).

    let suggestTimer = null;
    function suggestTags(query) {
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(async () => {
        const names = await app.fetchJson(`${app.config.api.tags}?q=${encodeURIComponent(query.trim())}`).catch(() => null);
        if (!names) return;
        $("tag-options").replaceChildren(...names.map((name) => {
          const option = app.el("option");
          option.value = name;
          return option;
        }));
      }, 120);
    }

    function chip(name, onRemove) {
      const item = app.el("li", "chip");
      item.append(app.el("span", "chip-name", name));
      const remove = app.el("button", "chip-remove", "×");
      remove.type = "button";
      remove.title = app.fmt(T.removeTag, { name });
      remove.setAttribute("aria-label", remove.title);
      remove.addEventListener("click", onRemove);
      item.append(remove);
      return item;
    }

    // The card: name, avatar, IM id, tags, notes.

    async function load(session) {
      const customerId = session.info.customer_id;
      state.customerId = customerId;
      state.editing = null;
      $("customer-memory").hidden = false;
      $("customer-notes").replaceChildren(app.el("li", "muted small", T.loading));
      $("customer-tags").replaceChildren();
      let card;
      try {
        card = await app.fetchJson(app.apiUrl("customerCard", customerId));
      } catch (error) {
        $("customer-notes").replaceChildren(app.el("li", "muted small", error.reason));
        return;
      }
      if (state.customerId !== customerId) return; // another chat was picked meanwhile
      state.card = card;
      render();
    }

    function render() {
      const card = state.card;
      if (!card) return;
      $("customer-im").textContent = card.name !== card.im_user_id ? card.im_user_id : "";
      $("customer-tags").replaceChildren(...card.tags.map((name) => chip(name, () => removeTag(name))));
      $("customer-tags-empty").hidden = card.tags.length > 0;
      $("note-count").textContent = card.notes.length ? String(card.notes.length) : "";
      const list = $("customer-notes");
      list.replaceChildren(...card.notes.map(noteNode));
      if (!card.notes.length) list.append(app.el("li", "muted small notes-empty", T.noNotes));
    }

    function noteNode(note) {
      const item = app.el("li", "note");
      item.dataset.noteId = note.id;
      const head = app.el("div", "note-head muted small");
      const edited = Boolean(note.edited_at);
      head.append(app.el("span", "note-author", note.author || T.formerServicer));
      head.append(app.el("span", "", `${app.dateTime(Date.parse(note.created_at))}${edited ? ` · ${T.edited}` : ""}`));
      item.append(head);
      if (state.editing === note.id) {
        const area = app.el("textarea", "note-edit");
        area.rows = 3;
        area.maxLength = 2000;
        area.value = note.text;
        area.setAttribute("aria-label", T.editNote);
        const save = app.el("button", "btn btn-small btn-primary", T.save);
        save.type = "button";
        save.addEventListener("click", () => updateNote(note.id, area.value));
        const cancel = app.el("button", "btn btn-small", T.cancel);
        cancel.type = "button";
        cancel.addEventListener("click", () => { state.editing = null; render(); });
        const actions = app.el("div", "note-actions");
        actions.append(cancel, save);
        item.append(area, actions);
        setTimeout(() => area.focus());
        return item;
      }
      item.append(app.el("div", "note-text", note.text));
      if (note.mine) {
        const actions = app.el("div", "note-actions");
        const edit = app.el("button", "link small", T.edit);
        edit.type = "button";
        edit.addEventListener("click", () => { state.editing = note.id; render(); });
        const remove = app.el("button", "link small danger", T.delete);
        remove.type = "button";
        // Two clicks: the first asks, the second deletes (no browser dialog).
        remove.addEventListener("click", () => {
          if (remove.dataset.armed) {
            deleteNote(note.id);
            return;
          }
          remove.dataset.armed = "1";
          remove.textContent = T.confirmDelete;
          setTimeout(() => { delete remove.dataset.armed; remove.textContent = T.delete; }, 3000);
        });
        actions.append(edit, remove);
        item.append(actions);
      }
      return item;
    }

    async function changeCard(request) {
      const customerId = state.customerId;
      try {
        const result = await request();
        if (state.customerId !== customerId) return false;
        return result === undefined ? true : result;
      } catch (error) {
        app.toast(error.reason, "error");
        return false;
      }
    }

    async function addTag(name) {
      if (!name.trim() || !state.card) return;
      const body = await changeCard(() => app.fetchJson(app.apiUrl("tagAdd", state.customerId), json({ name })));
      if (body) {
        state.card.tags = body.tags;
        $("tag-input").value = "";
        render();
      }
    }

    async function removeTag(name) {
      const body = await changeCard(() => app.fetchJson(app.apiUrl("tagRemove", state.customerId), json({ name })));
      if (body) {
        state.card.tags = body.tags;
        render();
      }
    }

    async function addNote(text) {
      if (!text.trim() || !state.card) return;
      const note = await changeCard(() => app.fetchJson(app.apiUrl("noteCreate", state.customerId), json({ text })));
      if (note) {
        state.card.notes.unshift(note);
        $("note-input").value = "";
        render();
      }
    }

    async function updateNote(id, text) {
      const note = await changeCard(() => app.fetchJson(app.apiUrl("noteUpdate", id), json({ text })));
      if (note) {
        state.card.notes = state.card.notes.map((other) => (other.id === id ? note : other));
        state.editing = null;
        render();
      }
    }

    async function deleteNote(id) {
      const done = await changeCard(() => app.fetchJson(app.apiUrl("noteDelete", id), { method: "POST" }));
      if (done) {
        state.card.notes = state.card.notes.filter((note) => note.id !== id);
        render();
        app.toast(T.noteDeleted, "success");
      }
    }

    $("tag-form").addEventListener("submit", (event) => {
      event.preventDefault();
      addTag($("tag-input").value);
    });
    $("tag-input").addEventListener("input", (event) => suggestTags(event.target.value));
    $("tag-input").addEventListener("focus", (event) => suggestTags(event.target.value));
    $("note-form").addEventListener("submit", (event) => {
      event.preventDefault();
      addNote($("note-input").value);
    });
    $("note-input").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        addNote($("note-input").value);
      }
    });

    function clear() {
      state.card = null;
      state.customerId = null;
      $("customer-memory").hidden = true;
    }

    // The wrap-up: asked for when the servicer ends a chat ("end" mode), or written afterwards for a
    // chat that ended while it was theirs ("wrap-up" mode).

    const wrap = { tags: [], sessionId: null, mode: "end" };
    const dialog = $("end-dialog");

    function renderWrapTags() {
      $("wrap-up-tags").replaceChildren(...wrap.tags.map((name) => chip(name, () => {
        wrap.tags = wrap.tags.filter((other) => other !== name);
        renderWrapTags();
      })));
    }

    function takeTypedTag() {
      const input = $("wrap-up-tag-input");
      const name = input.value.trim().replace(/\s+/g, " ");
      if (name && !wrap.tags.some((other) => other.toLowerCase() === name.toLowerCase())) wrap.tags.push(name);
      input.value = "";
      renderWrapTags();
    }

    function openWrapUp(sessionId, mode) {
      wrap.sessionId = sessionId;
      wrap.mode = mode;
      wrap.tags = [];
      $("wrap-up-summary").value = "";
      $("wrap-up-tag-input").value = "";
      $("end-error").hidden = true;
      const ending = mode === "end";
      const required = app.config.wrapUpRequired;
      $("end-title").textContent = ending ? T.endTitle : T.wrapUpTitle;
      $("end-text").hidden = !ending;
      $("wrap-up-optional").hidden = required || !ending;
      $("wrap-up-required").hidden = !required || !ending;
      const confirm = $("end-confirm");
      confirm.textContent = ending ? T.endSession : T.saveWrapUp;
      confirm.classList.toggle("btn-danger", ending);
      confirm.classList.toggle("btn-primary", !ending);
      renderWrapTags();
      dialog.showModal();
      $("wrap-up-tag-input").focus();
    }

    $("wrap-up-tag-input").addEventListener("keydown", (event) => {
      if (event.isComposing || event.keyCode === 229) return; // typing Chinese: Enter picks the characters
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault();
        takeTypedTag();
      } else if (event.key === "Backspace" && !event.target.value && wrap.tags.length) {
        wrap.tags.pop();
        renderWrapTags();
      }
    });
    $("wrap-up-tag-input").addEventListener("input", (event) => {
      // A pick from the suggestions replaces the text at once: take it as a tag.
      if (event.inputType === "insertReplacementText") takeTypedTag();
      else suggestTags(event.target.value);
    });
    $("wrap-up-tag-input").addEventListener("focus", (event) => suggestTags(event.target.value));

    $("end-button").addEventListener("click", () => openWrapUp(app.activeId, "end"));
    $("wrap-up-button").addEventListener("click", () => openWrapUp(app.activeId, "wrap-up"));
    $("end-confirm").addEventListener("click", async (event) => {
      event.preventDefault();
      takeTypedTag(); // a tag typed but not yet confirmed with Enter counts
      const sessionId = wrap.sessionId;
      const body = { tags: wrap.tags, summary: $("wrap-up-summary").value.trim() };
      const given = body.tags.length > 0 || body.summary !== "";
      const url = app.apiUrl(wrap.mode === "end" ? "end" : "wrapUp", sessionId);
      const confirm = $("end-confirm");
      confirm.disabled = true;
      try {
        await app.fetchJson(url, json(body));
      } catch (error) {
        $("end-error").textContent = error.reason;
        $("end-error").hidden = false;
        return;
      } finally {
        confirm.disabled = false;
      }
      dialog.close();
      const session = app.session(sessionId);
      if (session && given) session.wrappedUp = true;
      if (wrap.mode === "end") {
        if (session) session.closed = true;
        app.endSession(sessionId, T.sessionEnded);
      } else {
        app.toast(T.wrapUpSaved, "success");
        app.render();
      }
    });

    // After a chat ended by a close (not a transfer), the servicer may still write its wrap-up.
    function renderSession(session) {
      $("wrap-up-button").hidden = !(session && session.ended && session.closed && !session.wrappedUp);
    }

    function onCustomerUpdated(event) {
      if (state.card && state.card.id === event.customer_id) {
        state.card.name = event.customer_name;
        state.card.avatar_url = event.customer_avatar;
        render();
      }
    }

    return { load, clear, renderSession, onCustomerUpdated };
  },
};
