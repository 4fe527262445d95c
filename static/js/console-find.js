/* Find anything (Ctrl+K): the servicer's own customers, chats and messages, past and present, and
 * their recently ended chats with read-only transcripts. Its words and URLs are on the dialog's
 * data attributes (translated by the template). Text is always set as text, never as HTML.
 * Installs itself after console.js; owns Ctrl+K (Cmd+K on a Mac) and nothing else of the keyboard.
 */
"use strict";

window.ConsoleFind = {
  install(app) {
    const $ = (id) => document.getElementById(id);
    const dialog = $("find-dialog");
    const S = dialog.dataset;
    const DEBOUNCE_MS = 180;
    let timer = null;
    let asked = 0; // answers to older queries are dropped

    const stateLabel = (state) => (state === "closed" ? S.tClosed : S.tInProgress);

    function resultButton(sessionId, state, parts) {
      const button = app.el("button", "find-hit");
      button.type = "button";
      button.dataset.sessionId = sessionId;
      button.dataset.state = state;
      button.append(...parts);
      button.addEventListener("click", () => open(sessionId));
      const item = app.el("li");
      item.append(button);
      return item;
    }

    function section(title, items) {
      const wrap = app.el("section", "find-section");
      wrap.append(app.el("h3", "find-section-title", title));
      const list = app.el("ul", "find-list");
      list.append(...items);
      wrap.append(list);
      return wrap;
    }

    function showResults(result) {
      const nodes = [];
      if (result.scope === "recent") nodes.push(app.el("p", "muted small find-scope", S.tRecentScope));
      if (result.customers.length) {
        nodes.push(section(S.tCustomers, result.customers.map((hit) => {
          const avatar = app.el("span", "avatar avatar-sm");
          app.avatar(avatar, hit.customer_name, hit.customer_avatar);
          const body = app.el("span", "find-hit-body");
          body.append(app.el("strong", "", hit.customer_name), app.el("span", "muted small", hit.customer_im_user_id));
          return resultButton(hit.session_id, hit.session_state, [avatar, body, app.el("span", `find-state ${hit.session_state}`, stateLabel(hit.session_state))]);
        })));
      }
      if (result.messages.length) {
        nodes.push(section(S.tMessages, result.messages.map((hit) => {
          const body = app.el("span", "find-hit-body");
          body.append(
            app.el("span", "find-hit-top", `${hit.customer_name} · ${app.time(hit.server_timestamp)}`),
            app.el("span", "find-hit-text", hit.text),
          );
          return resultButton(hit.session_id, hit.session_state, [body, app.el("span", `find-state ${hit.session_state}`, stateLabel(hit.session_state))]);
        })));
      }
      if (!result.customers.length && !result.messages.length) nodes.push(app.el("p", "muted find-empty", S.tNothing));
      $("find-results").replaceChildren(...nodes);
    }

    async function showEnded() {
      const ticket = ++asked;
      let rows;
      try {
        rows = await app.fetchJson(S.endedUrl);
      } catch (error) {
        app.toast(app.errorText(error), "error");
        return;
      }
      if (ticket !== asked) return;
      const items = rows.map((row) => {
        const avatar = app.el("span", "avatar avatar-sm");
        app.avatar(avatar, row.customer_name, row.customer_avatar);
        const body = app.el("span", "find-hit-body");
        body.append(app.el("strong", "", row.customer_name), app.el("span", "muted small", row.closed_at ? app.dateTime(Date.parse(row.closed_at)) : ""));
        return resultButton(row.id, row.state, [avatar, body]);
      });
      const wrap = section(S.tEnded, items);
      wrap.id = "find-ended";
      if (!rows.length) wrap.append(app.el("p", "muted small", S.tNoEnded));
      $("find-results").replaceChildren(wrap);
    }

    async function search() {
      const query = $("find-input").value.trim();
      if (!query) {
        showEnded();
        return;
      }
      const ticket = ++asked;
      try {
        const result = await app.fetchJson(`${S.searchUrl}?q=${encodeURIComponent(query)}`);
        if (ticket === asked) showResults(result);
      } catch (error) {
        if (ticket === asked) app.toast(app.errorText(error), "error");
      }
    }

    function showList() {
      $("find-transcript").hidden = true;
      $("find-results").hidden = false;
      $("find-input").hidden = false;
    }

    async function open(sessionId) {
      const live = app.session(sessionId);
      if (live && !live.ended) {
        // A chat in progress opens where it is worked on.
        dialog.close();
        app.select(sessionId);
        return;
      }
      let transcript;
      try {
        transcript = await app.fetchJson(S.transcriptUrl.replace("/0/", `/${sessionId}/`));
      } catch (error) {
        app.toast(app.errorText(error), "error");
        return;
      }
      const session = { id: transcript.id, info: { customer_name: transcript.customer_name } };
      $("find-transcript-title").textContent = transcript.customer_name;
      const when = transcript.closed_at ? app.dateTime(Date.parse(transcript.closed_at)) : "";
      $("find-transcript-meta").textContent = transcript.state === "closed" ? `${S.tReadOnly} ${when}` : S.tInProgress;
      const nodes = transcript.messages.filter(app.isVisible).map((message) => app.messageNode(message, session));
      $("find-transcript-messages").replaceChildren(...nodes);
      $("find-results").hidden = true;
      $("find-input").hidden = true;
      $("find-transcript").hidden = false;
      $("find-transcript").dataset.sessionId = transcript.id;
      $("find-back").focus();
    }

    function show({ ended = false } = {}) {
      showList();
      if (ended) $("find-input").value = "";
      if (!dialog.open) dialog.showModal();
      $("find-input").focus();
      $("find-input").select();
      search();
    }

    $("find-button").addEventListener("click", () => show());
    $("ended-button").addEventListener("click", () => show({ ended: true }));
    $("find-back").addEventListener("click", () => {
      showList();
      $("find-input").focus();
    });
    $("find-input").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    $("find-form").addEventListener("submit", (event) => {
      // Enter searches at once (and does not close the dialog).
      if (event.submitter && event.submitter.hasAttribute("data-close")) return;
      event.preventDefault();
      clearTimeout(timer);
      search();
    });
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        show();
      }
    });
    return { show, open };
  },
};

document.addEventListener("DOMContentLoaded", () => {
  window.ConsoleApp.find = window.ConsoleFind.install(window.ConsoleApp);
});
