/*
 * Talaan live updates: one websocket per page at /ws/live/, for signed-in users only
 * (<body data-live="on">). The server sends {event, application_id, request_id, unread}.
 *
 * On each message the bell badges ([data-bell-count]) show the unread count, and the body
 * receives a "talaan:changed" event carrying the message, so HTMX fragments can refresh:
 *   hx-trigger="talaan:changed[detail.application_id==42] from:body"
 *
 * The server closes with 4401 (not signed in) or 4403 (forbidden); a page that gets either
 * stops reconnecting. Any other close (a server restart's 1012, a Redis outage's 1013, a lost
 * network, or a handshake not answered within 10 s) reconnects with exponential backoff (at
 * most ~10 s). Events pushed while the socket was away are not replayed, so when a socket
 * opens again after one that had been open, the body receives "talaan:resync" and every live
 * fragment fetches itself afresh:
 *   hx-trigger="talaan:changed[...] from:body, talaan:resync from:body"
 */
(function () {
  "use strict";

  var body = document.body;
  if (!body || body.dataset.live !== "on" || !("WebSocket" in window)) {
    return;
  }

  var MIN_DELAY = 500;
  var MAX_DELAY = 10000;
  var CONNECT_TIMEOUT = 10000;
  var FINAL_CODES = [4401, 4403];
  var delay = MIN_DELAY;
  var timer = null;
  var socket = null;
  var paused = false;
  // Whether a socket of this page has been open: the next one to open may have missed events.
  var wasOpen = false;

  function url() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + "/ws/live/";
  }

  function showUnread(unread) {
    if (typeof unread !== "number") {
      return;
    }
    var badges = document.querySelectorAll("[data-bell-count]");
    for (var i = 0; i < badges.length; i++) {
      badges[i].textContent = String(unread);
      badges[i].hidden = unread === 0;
    }
  }

  function onMessage(event) {
    var msg;
    try {
      msg = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (!msg || typeof msg !== "object" || msg.error) {
      return;
    }
    showUnread(msg.unread);
    body.dispatchEvent(new CustomEvent("talaan:changed", { detail: msg }));
  }

  function schedule() {
    if (timer !== null) {
      return;
    }
    // Jitter spreads the reconnects of many open pages after a server restart.
    var wait = delay / 2 + Math.random() * (delay / 2);
    delay = Math.min(delay * 2, MAX_DELAY);
    timer = window.setTimeout(function () {
      timer = null;
      connect();
    }, wait);
  }

  function connect() {
    var opening;
    try {
      socket = new WebSocket(url());
    } catch (err) {
      schedule();
      return;
    }
    var current = socket;
    // A handshake the server never answers (seen while Redis restarts) would leave the page
    // connecting, and deaf, for good: give up on it and try again.
    opening = window.setTimeout(function () {
      if (current.readyState === WebSocket.CONNECTING) {
        current.close();
      }
    }, CONNECT_TIMEOUT);
    current.addEventListener("open", function () {
      window.clearTimeout(opening);
      delay = MIN_DELAY;
      if (wasOpen) {
        body.dispatchEvent(new CustomEvent("talaan:resync"));
      }
      wasOpen = true;
    });
    current.addEventListener("message", onMessage);
    current.addEventListener("close", function (event) {
      window.clearTimeout(opening);
      if (socket === current) {
        socket = null;
      }
      if (!paused && FINAL_CODES.indexOf(event.code) === -1) {
        schedule();
      }
    });
  }

  // Close the socket when the page goes into the back/forward cache; reopen on return.
  window.addEventListener("pagehide", function () {
    paused = true;
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
    if (socket) {
      socket.close(1000);
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      paused = false;
      delay = MIN_DELAY;
      if (socket === null) {
        connect();
      }
    }
  });

  connect();
})();
