/* The console's API tokens: a servicer issues a token for a client of their own (its key shown
 * once, with a copy button), sees the tokens in force and revokes them. Its words and URLs are on
 * the dialog's data attributes (translated by the template). Installs itself after console.js.
 */
"use strict";

window.ConsoleApiTokens = {
  install(app) {
    const $ = (id) => document.getElementById(id);
    const dialog = $("token-dialog");
    const S = dialog.dataset;
    const state = { armed: null, busy: false };

    const post = (url, body) =>
      app.fetchJson(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
      });
    const when = (iso) => app.dateTime(Date.parse(iso));

    function rowNode(token) {
      const node = app.el("li", "token-row");
      node.dataset.tokenId = token.id;
      const about = app.el("div", "token-about");
      const title = app.el("div", "token-title");
      title.append(app.el("span", "token-name", token.name || S.tUnnamed), app.el("code", "token-prefix", `${token.prefix}…`));
      const used = token.last_used_at ? `${S.tLastUsed} ${when(token.last_used_at)}` : S.tNeverUsed;
      const dates = app.el("div", "muted small", `${S.tCreated} ${when(token.created_at)} · ${used}`);
      about.append(title, dates);
      const revoke = app.el("button", "btn btn-small btn-danger-outline token-revoke", S.tRevoke);
      revoke.type = "button";
      revoke.addEventListener("click", () => revokeClicked(token, revoke));
      node.append(about, revoke);
      return node;
    }

    async function load() {
      let tokens;
      try {
        tokens = await app.fetchJson(S.listUrl);
      } catch (error) {
        app.toast(app.errorText(error), "error");
        return;
      }
      state.armed = null;
      $("token-list").replaceChildren(...tokens.map(rowNode));
      $("token-empty").hidden = tokens.length > 0;
    }

    async function create() {
      if (state.busy) return;
      state.busy = true;
      $("token-create").disabled = true;
      try {
        const issued = await post(S.createUrl, { name: $("token-name").value.trim() });
        $("token-name").value = "";
        $("token-key").value = issued.key;
        $("token-issued").hidden = false;
        $("token-key").focus();
        $("token-key").select();
        await load();
      } catch (error) {
        app.toast(app.errorText(error), "error");
      } finally {
        state.busy = false;
        $("token-create").disabled = false;
      }
    }

    async function revokeClicked(token, button) {
      if (state.armed !== token.id) {
        // Two clicks: a client that uses the token stops working at once.
        for (const other of document.querySelectorAll(".token-revoke.armed")) {
          other.classList.remove("armed", "btn-danger");
          other.textContent = S.tRevoke;
        }
        state.armed = token.id;
        button.classList.add("armed", "btn-danger");
        button.textContent = S.tConfirmRevoke;
        return;
      }
      button.disabled = true;
      try {
        await post(S.revokeUrl.replace("/0/", `/${token.id}/`));
        app.toast(S.tRevoked, "success");
      } catch (error) {
        app.toast(app.errorText(error), "error");
      }
      await load();
    }

    async function copy() {
      const field = $("token-key");
      try {
        await navigator.clipboard.writeText(field.value);
        app.toast(S.tCopied, "success");
      } catch (_error) {
        field.focus();
        field.select();
        app.toast(S.tCopyFailed, "error");
      }
    }

    function forgetKey() {
      // Shown once: closing the dialog drops the key from the page.
      $("token-key").value = "";
      $("token-issued").hidden = true;
    }

    $("tokens-button").addEventListener("click", () => {
      forgetKey();
      dialog.showModal();
      load();
    });
    $("token-form").addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.id === "token-create") {
        event.preventDefault(); // issuing keeps the dialog open, to show the key
        create();
      }
    });
    $("token-name").addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        create();
      }
    });
    $("token-copy").addEventListener("click", copy);
    dialog.addEventListener("close", forgetKey);
    return { load };
  },
};

document.addEventListener("DOMContentLoaded", () => {
  window.ConsoleApp.apiTokens = window.ConsoleApiTokens.install(window.ConsoleApp);
});
