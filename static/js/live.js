// The supervisors' live view. The server renders the panels; this script swaps in a fresh copy
// whenever the websocket feed (ws/supervisor/) says something changed, and polls as a safety net:
// every 30 s while the feed is up, every 5 s while it is down. Elapsed times tick every second.
// The monitor (live-monitor.js) shares the socket: every event is passed on as a "cs-live-event"
// DOM event, a (re)connection as "cs-live-open", and "cs-live-send" sends a frame.
(function () {
  "use strict";

  var root = document.getElementById("cs-live");
  if (!root) {
    return;
  }
  var panels = document.getElementById("cs-live-panels");
  var indicator = document.getElementById("cs-connection");
  var POLL_LIVE_MS = 30000;
  var POLL_DOWN_MS = 5000;
  var MIN_GAP_MS = 500; // several events in a burst cause one refresh
  var QUIET_TYPES = ["hello", "pong", "message.new", "monitoring", "error"];
  var socket = null;
  var connected = false;
  var retryMs = 1000;
  var clockOffset = 0; // server clock minus this browser's clock
  var fetching = false;
  var again = false;
  var lastFetch = 0;
  var pollTimer = null;
  var gapTimer = null;

  function setState(state) {
    indicator.dataset.state = state;
    indicator.textContent = indicator.getAttribute("data-text-" + state);
  }

  function readClock() {
    var box = panels.querySelector("[data-now]");
    if (box) {
      clockOffset = Number(box.getAttribute("data-now")) - Date.now();
    }
  }

  function durationText(ms) {
    var total = Math.max(0, Math.round(ms / 1000));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return hours ? hours + ":" + pad(minutes) + ":" + pad(seconds) : minutes + ":" + pad(seconds);
  }

  function tick() {
    var now = Date.now() + clockOffset;
    panels.querySelectorAll(".cs-elapsed[data-since]").forEach(function (el) {
      var since = Number(el.getAttribute("data-since"));
      if (since) {
        el.textContent = durationText(now - since);
      }
    });
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(refresh, connected ? POLL_LIVE_MS : POLL_DOWN_MS);
  }

  function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    var wait = lastFetch + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      clearTimeout(gapTimer);
      gapTimer = setTimeout(refresh, wait);
      return;
    }
    fetching = true;
    lastFetch = Date.now();
    fetch(root.dataset.panelsUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected || response.status === 403) {
          window.location.reload(); // logged out or rights withdrawn: let the server say so
          throw new Error("not allowed");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        panels.innerHTML = html; // our own server-rendered, escaped template
        readClock();
        tick();
        root.dataset.refreshes = String(Number(root.dataset.refreshes || 0) + 1);
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          refresh();
        }
        schedulePoll();
      });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.onopen = function () {
      connected = true;
      retryMs = 1000;
      setState("live");
      refresh(); // catch up on what happened while the link was down
      document.dispatchEvent(new CustomEvent("cs-live-open"));
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      document.dispatchEvent(new CustomEvent("cs-live-event", { detail: event }));
      // A monitored session's messages and the feed's own answers change no panel.
      if (QUIET_TYPES.indexOf(event.type) === -1) {
        refresh();
      }
    };
    socket.onclose = function () {
      connected = false;
      setState("polling");
      schedulePoll();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    };
  }

  setInterval(function () {
    if (connected && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "ping" }));
    }
  }, 25000);
  setInterval(tick, 1000);
  document.addEventListener("cs-live-refresh", refresh); // a control of the live view acted
  document.addEventListener("cs-live-send", function (event) {
    if (connected && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(event.detail));
    }
  });
  readClock();
  schedulePoll();
  connect();
})();
