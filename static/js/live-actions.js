// The live view's controls: a button in the panels opens its dialog; the dialog posts a JSON
// object (with the CSRF token) to the button's URL and shows the server's reason when refused.
// The panels refresh on their own through the live feed; a success also asks for a refresh.
(function () {
  "use strict";

  var panels = document.getElementById("cs-live-panels");
  if (!panels) {
    return;
  }
  var current = null; // the button whose dialog is open

  function body(form) {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") {
        data[name] = value;
      }
    });
    if (form.elements.seat) {
      data.seat = data.seat ? Number(data.seat) : null;
    }
    if (form.elements.force) {
      data.force = form.elements.force.checked;
    }
    if ("requeue" in data) {
      data.requeue = data.requeue === "1";
    }
    return data;
  }

  function showError(dialog, text) {
    var box = dialog.querySelector(".cs-dialog-error");
    box.textContent = text;
    box.hidden = !text;
  }

  panels.addEventListener("click", function (event) {
    var button = event.target.closest(".cs-act");
    if (!button) {
      return;
    }
    var dialog = document.getElementById(button.dataset.dialog);
    current = button;
    dialog.querySelector("form").reset();
    dialog.querySelector(".cs-dialog-label").textContent = button.dataset.label || "";
    var seatSelect = dialog.querySelector("select[name=seat]");
    if (seatSelect) {
      Array.prototype.forEach.call(seatSelect.options, function (option) {
        option.disabled = option.value !== "" && option.value === button.dataset.seat;
      });
    }
    var statusSelect = dialog.querySelector("select[name=status]");
    if (statusSelect && button.dataset.status) {
      statusSelect.value = button.dataset.status;
    }
    showError(dialog, "");
    dialog.showModal();
  });

  document.querySelectorAll(".cs-dialog").forEach(function (dialog) {
    var form = dialog.querySelector("form");
    dialog.querySelector(".cs-dialog-cancel").addEventListener("click", function () { dialog.close(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) {
        return;
      }
      fetch(current.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
        body: JSON.stringify(body(form)),
      })
        .then(function (response) {
          return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
        })
        .then(function (result) {
          if (!result.ok) {
            showError(dialog, result.answer.error || String(result.answer.code));
            return;
          }
          dialog.close();
          document.dispatchEvent(new CustomEvent("cs-live-refresh"));
        })
        .catch(function (error) { showError(dialog, String(error)); });
    });
  });
})();
