/* The volunteer's route page: marks sent as JSON and queued while offline, contact
   reveals, and the service worker that keeps the page usable with no connection.

   Without this script every button is a plain form posting to the same service.
   With it, a mark gets a fresh idempotency key (a UUID made on the phone), is shown
   at once, stored in the queue (volunteer-queue.js) and sent; with no connection it
   stays "waiting to send" and is sent when the connection returns (the "online"
   event, a retry every 30 s, and at every page load), oldest first, each until the
   server answers it — the server applies a key once, so resending is safe.

   Hooks (also for browser tests): #sync-status (data-state, data-pending),
   .item[data-allocation][data-action][data-status], button[data-mark],
   [data-pending], [data-error], form[data-reveal], [data-contact]. */
(function () {
  "use strict";
  /* On every volunteer page: signing out empties the kept copies (they hold this
     volunteer's route). */
  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches("form.logout")) { return; }
    if ("serviceWorker" in navigator && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "clear" });
    }
    if (window.caches) {
      window.caches.keys().then(function (keys) {
        keys.forEach(function (key) {
          if (key.indexOf("jessr-volunteer") === 0) { window.caches["delete"](key); }
        });
      });
    }
  });
  var configElement = document.getElementById("volunteer-config");
  if (!configElement) { return; }
  var config = JSON.parse(configElement.textContent);
  var S = config.strings;
  var queue = window.JessrQueue;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var syncStatus = document.getElementById("sync-status");
  var flushing = null;
  var retryTimer = null;
  var sentSomething = false;
  var RETRY_MS = 30000;

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 15) | 64;  /* version 4 */
    bytes[8] = (bytes[8] & 63) | 128;  /* RFC 4122 variant */
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function itemsOf(allocation) {
    return document.querySelectorAll('.item[data-allocation="' + String(allocation) + '"]');
  }

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function refreshButtons(item) {
    var allowed = config.moves[item.getAttribute("data-status")] || [];
    var waiting = item.hasAttribute("data-waiting");
    each(item.querySelectorAll("button[data-mark]"), function (button) {
      /* While a mark waits, the next move is allowed as the queued one assumes. */
      button.disabled = allowed.indexOf(button.getAttribute("data-mark")) < 0;
      button.setAttribute("aria-disabled", button.disabled ? "true" : "false");
    });
    var fail = item.querySelector("details.fail");
    if (fail) { fail.hidden = allowed.indexOf("failed") < 0; }
    item.classList.toggle("waiting", waiting);
  }

  function setStatus(allocation, status) {
    each(itemsOf(allocation), function (item) {
      item.setAttribute("data-status", status);
      var label = item.querySelector("[data-status-label]");
      if (label) {
        label.textContent = config.statusLabels[status] || status;
        label.className = "status status-" + status;
      }
      refreshButtons(item);
    });
  }

  function setWaiting(allocation, waiting) {
    each(itemsOf(allocation), function (item) {
      if (waiting) { item.setAttribute("data-waiting", ""); } else { item.removeAttribute("data-waiting"); }
      var badge = item.querySelector("[data-pending]");
      if (badge) { badge.hidden = !waiting; }
      refreshButtons(item);
    });
  }

  function showError(allocation, text) {
    each(itemsOf(allocation), function (item) {
      var box = item.querySelector("[data-error]");
      if (!box) { return; }
      box.textContent = text || "";
      box.hidden = !text;
    });
  }

  function setSync(state, count) {
    if (!syncStatus) { return; }
    syncStatus.setAttribute("data-state", state);
    syncStatus.setAttribute("data-pending", String(count || 0));
    var text = "";
    if (state === "offline") { text = S.offline; }
    else if (state === "auth") { text = S.signIn; }
    else if (state === "sending") { text = S.sending; }
    else if (state === "pending" || state === "error") { text = S.pendingCount.replace("{n}", String(count)); }
    else if (state === "idle" && sentSomething) { text = S.allSent; }
    syncStatus.textContent = text;
  }

  /* The page shows each queued mark as made, and "waiting to send". */
  function showQueue(marks, state) {
    var waiting = {};
    marks.forEach(function (mark) {
      waiting[mark.allocation] = true;
      setStatus(mark.allocation, mark.kind);
    });
    each(document.querySelectorAll(".item[data-waiting]"), function (item) {
      if (!waiting[item.getAttribute("data-allocation")]) { setWaiting(item.getAttribute("data-allocation"), false); }
    });
    Object.keys(waiting).forEach(function (allocation) { setWaiting(allocation, true); });
    setSync(marks.length ? (state || "pending") : "idle", marks.length);
    if (marks.length && !retryTimer) {
      retryTimer = window.setInterval(function () { flush(); }, RETRY_MS);
    } else if (!marks.length && retryTimer) {
      window.clearInterval(retryTimer);
      retryTimer = null;
    }
  }

  function send(mark) {
    return window.fetch(config.marksUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",  /* a redirect means "sign in": do not follow it */
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrf
      },
      body: JSON.stringify({
        allocation: mark.allocation,
        kind: mark.kind,
        reason: mark.reason || "",
        note: mark.note || "",
        idempotency_key: mark.key
      })
    });
  }

  /* Send every queued mark, oldest first; stop at the first that cannot be sent now
     (no connection, signed out, server error) so that a delivery never overtakes
     its pickup. Answers: 200 done; 400/404/409 refused for good (shown, dropped). */
  function flush() {
    if (flushing) { return flushing; }
    var stopped = null;
    flushing = queue.all().then(function (marks) {
      if (!marks.length) { return; }
      setSync("sending", marks.length);
      return marks.reduce(function (chain, mark) {
        return chain.then(function () {
          if (stopped) { return; }
          return send(mark).then(function (response) {
            if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
              stopped = "auth";
              return;
            }
            var type = response.headers.get("Content-Type") || "";
            if (type.indexOf("application/json") < 0) {
              /* Not our service's answer: an expired session's CSRF refusal, a proxy. */
              stopped = response.status === 400 ? "auth" : "error";
              return;
            }
            return response.json().then(function (body) {
              if (response.ok) {
                sentSomething = true;
                showError(mark.allocation, "");
                setStatus(mark.allocation, body.status);
                return queue.remove(mark.key);
              }
              if (response.status >= 500) { stopped = "error"; return; }
              setStatus(mark.allocation, body.status || mark.previous);
              showError(mark.allocation, S.refused.replace("{reason}", body.message || ""));
              return queue.remove(mark.key);
            });
          }, function () { stopped = "offline"; });
        });
      }, Promise.resolve());
    }).then(function () {
      return queue.all();
    }).then(function (left) {
      showQueue(left, stopped === "offline" ? "offline" : stopped || "pending");
      if (sentSomething && !left.length) { refreshCachedPage(); }
    }, function () {
      setSync("error", 0);
    }).then(function () {
      flushing = null;
    });
    return flushing;
  }

  function onMark(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-mark-form]")) { return; }
    event.preventDefault();
    var item = form.closest(".item");
    var data = new FormData(form);
    var kind = data.get("kind");
    var allocation = Number(data.get("allocation"));
    var reason = data.get("reason") || "";
    if (kind === "failed" && !reason) {
      showError(allocation, S.needReason);
      return;
    }
    var mark = {
      key: uuid(),
      seq: queue.nextSeq(),
      allocation: allocation,
      kind: kind,
      reason: reason,
      note: data.get("note") || "",
      previous: item ? item.getAttribute("data-status") : "",
      made: new Date().toISOString()
    };
    showError(allocation, "");
    setStatus(allocation, kind);
    setWaiting(allocation, true);
    var details = form.closest("details");
    if (details) { details.open = false; }
    queue.add(mark).then(function () {
      return queue.all();
    }).then(function (marks) {
      showQueue(marks, navigator.onLine === false ? "offline" : "pending");
      return flush();
    });
  }

  function onReveal(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-reveal]")) { return; }
    event.preventDefault();
    var allocation = form.getAttribute("data-reveal");
    var box = document.getElementById("contact-" + allocation);
    window.fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!box) { return; }
      box.textContent = "";
      if (!answer.ok) {
        box.textContent = answer.body.message || S.contactError;
      } else {
        box.appendChild(contactList(answer.body));
        form.hidden = true;
      }
      box.hidden = false;
    }).catch(function () {
      if (box) { box.textContent = S.contactError; box.hidden = false; }
    });
  }

  function contactList(body) {
    var list = document.createElement("dl");
    var phone = body.phone ? document.createElement("a") : document.createTextNode(S.none);
    if (body.phone) {
      phone.href = "tel:" + body.phone.replace(/\s+/g, "");
      phone.textContent = body.phone;
    }
    [[S.phone, phone], [S.address, document.createTextNode(body.address || S.none)]].forEach(function (pair) {
      var term = document.createElement("dt");
      term.textContent = pair[0];
      var value = document.createElement("dd");
      value.appendChild(pair[1]);
      list.appendChild(term);
      list.appendChild(value);
    });
    return list;
  }

  /* The service worker: the page and its files are kept for opening offline. */
  function assetUrls() {
    /* A page the worker already controls was kept on its way in (and its files). */
    if (navigator.serviceWorker.controller) { return []; }
    var urls = [window.location.href];
    each(document.querySelectorAll('link[rel="stylesheet"][href], script[src]'), function (el) {
      urls.push(el.href || el.src);
    });
    return urls;
  }

  function toWorker(message) {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage(message); }
    });
  }

  function refreshCachedPage() {
    /* Through the worker (network first), so the kept copy shows the new statuses. */
    window.fetch(window.location.href, { credentials: "same-origin" }).catch(function () {});
  }

  function startWorker() {
    if (!("serviceWorker" in navigator) || !config.swUrl) { return; }
    navigator.serviceWorker.register(config.swUrl, { scope: config.scope }).then(function () {
      toWorker({ type: "cache", urls: assetUrls(), offline: S.offline, lang: document.documentElement.lang });
    }).catch(function () { /* no worker (private mode, old browser): the page still works online */ });
  }

  document.addEventListener("submit", function (event) {
    onMark(event);
    onReveal(event);
  });
  window.addEventListener("online", function () { flush(); });
  window.addEventListener("offline", function () {
    queue.all().then(function (marks) { showQueue(marks, "offline"); });
  });
  each(document.querySelectorAll(".item[data-allocation]"), refreshButtons);
  queue.all().then(function (marks) {
    showQueue(marks, navigator.onLine === false ? "offline" : "pending");
    if (marks.length) { flush(); }
  });
  startWorker();
})();
