// The live view's monitor: a chat in progress, read-only and live. Its transcript so far comes from
// /admin/live/sessions/<id>/monitor/ (after a sequence number); new messages, whispers included,
// from the live feed, which live.js shares ("cs-live-send" subscribes, "cs-live-event" delivers).
// Subscribed first, read second, and read again after every (re)subscription: nothing is missed,
// and a message seen twice is shown once (by its sequence number).
(function () {
  "use strict";

  var box = document.getElementById("cs-monitor");
  if (!box) {
    return;
  }
  var transcript = box.querySelector(".cs-monitor-transcript");
  var stateLine = box.querySelector(".cs-monitor-state");
  var errorLine = box.querySelector(".cs-monitor-error");
  var whisperForm = box.querySelector(".cs-whisper-form");
  var askButton = box.querySelector(".cs-take-over-ask");
  var confirmRow = box.querySelector(".cs-take-over-confirm");
  var T = JSON.parse(document.getElementById("cs-monitor-strings").textContent);
  var current = null; // {id, lastSeq, seen}
  var reading = false;
  var readAgain = false;

  function text(name) {
    return T[name] || "";
  }

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function url(kind, id) {
    return box.getAttribute("data-" + kind + "-template").replace("/0/", "/" + id + "/");
  }

  function send(frame) {
    document.dispatchEvent(new CustomEvent("cs-live-send", { detail: frame }));
  }

  var unseenLine = box.querySelector(".cs-whisper-unseen");

  function showError(message) {
    errorLine.textContent = message || "";
    errorLine.hidden = !message;
  }

  function extraOf(payload) {
    try {
      return JSON.parse(payload.extra || "{}").cs || {};
    } catch (error) {
      return {};
    }
  }

  function bodyText(message) {
    var payload = message.payload || {};
    if (message.content_type === 3) {
      return text("image");
    }
    if (message.content_type === 5) {
      return text("file") + " " + (payload.searchableContent || "");
    }
    if (message.content_type === 1 || message.content_type === 9 || message.content_type === 90) {
      return payload.searchableContent || payload.content || "";
    }
    return fmt(text("other"), { type: message.content_type });
  }

  function who(message) {
    var cs = extraOf(message.payload || {});
    if (message.direction === "internal") {
      return fmt(text("whisper"), { name: (cs.whisper && cs.whisper.name) || "" });
    }
    if (message.author === "servicer") {
      return (cs.servicer && cs.servicer.name) || text("servicer");
    }
    return text(message.author) || message.author;
  }

  function addMessage(message) {
    if (!current || message.session_id !== current.id || current.seen[message.seq]) {
      return;
    }
    if (message.content_type >= 1000) {
      current.seen[message.seq] = true; // a control message for the customer's client
      current.lastSeq = Math.max(current.lastSeq, message.seq);
      return;
    }
    if (message.seq > current.lastSeq + 1) {
      read(); // a gap (the feed was down): fetch what is missing, then this one again
    }
    current.seen[message.seq] = true;
    current.lastSeq = Math.max(current.lastSeq, message.seq);
    var item = document.createElement("li");
    var kind = message.direction === "internal" ? "whisper" : message.direction === "in" ? "in" : "out";
    item.className = "cs-monitor-msg cs-monitor-" + kind;
    item.dataset.seq = String(message.seq);
    var meta = document.createElement("div");
    meta.className = "cs-monitor-meta";
    meta.textContent = who(message) + " · " + new Date(message.server_timestamp).toLocaleTimeString();
    var body = document.createElement("div");
    body.className = "cs-monitor-text";
    body.textContent = bodyText(message);
    item.append(meta, body);
    var following = Array.prototype.find.call(transcript.children, function (node) {
      return Number(node.dataset.seq) > message.seq;
    });
    transcript.insertBefore(item, following || null);
    if (!following) {
      transcript.scrollTop = transcript.scrollHeight;
    }
  }

  function showSession(session, yours) {
    var served = session.state === "human" && !yours; // one's own chat is answered in the console
    stateLine.textContent = session.state === "human"
      ? fmt(text("serving"), { seat: session.seat_name })
      : fmt(text("notServed"), { state: session.state_label });
    box.dataset.state = session.state;
    Array.prototype.forEach.call(whisperForm.elements, function (element) { element.disabled = !served; });
    askButton.disabled = !served;
    whisperForm.hidden = yours;
    box.querySelector(".cs-take-over").hidden = yours;
    box.querySelector(".cs-monitor-yours").hidden = !(yours && session.state === "human");
    if (!served) {
      confirmRow.hidden = true;
    }
  }

  function read() {
    if (!current) {
      return;
    }
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    var watched = current;
    fetch(url("url", watched.id) + "?after=" + watched.lastSeq, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (answer) {
        if (current !== watched) {
          return;
        }
        showError("");
        answer.messages.forEach(addMessage);
        showSession(answer.session, answer.yours);
        if (answer.more) {
          readAgain = true;
        }
      })
      .catch(function () {
        showError(text("failed"));
        setTimeout(read, 3000);
      })
      .then(function () {
        reading = false;
        if (readAgain) {
          readAgain = false;
          read();
        }
      });
  }

  function open(id, label) {
    current = { id: id, lastSeq: 0, seen: {} };
    transcript.textContent = "";
    stateLine.textContent = "";
    showError("");
    confirmRow.hidden = true;
    whisperForm.reset();
    unseenLine.hidden = true;
    box.querySelector(".cs-monitor-label").textContent = label;
    box.dataset.session = String(id);
    box.hidden = false;
    send({ type: "monitor", session_id: id }); // its answer ("monitoring") reads what came before
    read();
    box.scrollIntoView({ block: "nearest" });
  }

  function close() {
    current = null;
    box.hidden = true;
    delete box.dataset.session;
    send({ type: "unmonitor" });
  }

  function post(kind, body) {
    var token = whisperForm.elements.csrfmiddlewaretoken.value;
    return fetch(url(kind, current.id), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) {
          throw new Error(answer.error || String(answer.code));
        }
        return answer;
      });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".cs-monitor-open");
    if (button) {
      open(Number(button.dataset.session), button.dataset.label || "");
    }
  });
  box.querySelector(".cs-monitor-close").addEventListener("click", close);

  whisperForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var area = whisperForm.elements.text;
    if (!current || !area.value.trim()) {
      return;
    }
    post("whisper-url", { text: area.value })
      .then(function (answer) {
        area.value = "";
        showError("");
        unseenLine.hidden = answer.console_open !== false;
        read(); // in case the feed is down; the feed usually brings it first
      })
      .catch(function (error) { showError(error.message); });
  });

  askButton.addEventListener("click", function () { confirmRow.hidden = false; });
  box.querySelector(".cs-take-over-no").addEventListener("click", function () { confirmRow.hidden = true; });
  box.querySelector(".cs-take-over-yes").addEventListener("click", function () {
    if (!current) {
      return;
    }
    post("take-over-url", { note: "" })
      .then(function () {
        confirmRow.hidden = true;
        showError("");
        read();
        document.dispatchEvent(new CustomEvent("cs-live-refresh"));
      })
      .catch(function (error) { showError(error.message); });
  });

  document.addEventListener("cs-live-open", function () {
    if (current) {
      send({ type: "monitor", session_id: current.id });
    }
  });
  document.addEventListener("cs-live-event", function (event) {
    var data = event.detail;
    if (!current) {
      return;
    }
    if (data.type === "message.new") {
      addMessage(data);
    } else if ((data.type === "monitoring" || data.type === "session.timeline") && data.session_id === current.id) {
      read(); // subscribed (catch up), or the chat moved or ended (its state line)
    }
  });
})();
