/* The volunteer pages' service worker (served as /volunteer/sw.js, scope /volunteer/).

   - Pages under the scope: network first; a successful answer is kept, and with no
     connection the kept copy is served (the same URL, else the route of today, else
     a one-line "no connection" page in the volunteer's language).
   - The site's own files (/static/…: styles, scripts, Leaflet): served from the
     cache when kept, refreshed in the background.
   - Everything else (POSTs — marks, contact reveals —, map tiles, other sites)
     goes straight to the network: a contact is never kept on the phone.

   The page sends {type: "cache", urls: [...]} once the worker is ready, so the page
   and the files it loaded before the worker existed are kept too, and
   {type: "clear"} when the volunteer signs out. */
"use strict";

var CACHE = "jessr-volunteer-v1";
var OFFLINE_KEY = "__offline__";

function scopePath() {
  return new URL(self.registration.scope).pathname;
}

function staticPath() {
  /* The site's root is the scope's parent folder (…/volunteer/ -> …/). */
  return scopePath().replace(/volunteer\/$/, "") + "static/";
}

function keepable(response) {
  return Boolean(response) && response.ok && !response.redirected && response.type === "basic";
}

function keep(request, response) {
  if (!keepable(response)) { return Promise.resolve(); }
  var copy = response.clone();
  return caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("jessr-volunteer-") === 0 && key !== CACHE;
      }).map(function (key) { return caches["delete"](key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "cache" && Array.isArray(data.urls)) {
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      var offline = new Response(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">" +
        "<html lang=\"" + String(data.lang || "en").replace(/[^a-z-]/gi, "") + "\"><title>Jessr</title><p>" +
        String(data.offline || "").replace(/[<>&"]/g, "") + "</p></html>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
      );
      var work = [cache.put(scopePath() + OFFLINE_KEY, offline)];
      data.urls.forEach(function (url) {
        var target;
        try { target = new URL(url, self.location.href); } catch (e) { return; }
        if (target.origin !== self.location.origin) { return; }
        work.push(fetch(target.href, { credentials: "same-origin" }).then(function (response) {
          return keep(target.href, response);
        }).catch(function () {}));
      });
      return Promise.all(work);
    }));
  } else if (data.type === "clear") {
    event.waitUntil(caches["delete"](CACHE));
  }
});

function fromNetworkFirst(request) {
  return fetch(request).then(function (response) {
    return keep(request, response).then(function () { return response; });
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) {
        return hit || cache.match(scopePath());
      }).then(function (hit) {
        return hit || cache.match(scopePath() + OFFLINE_KEY);
      }).then(function (hit) {
        return hit || Response.error();
      });
    });
  });
}

function fromCacheFirst(event) {
  var request = event.request;
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var refresh = fetch(request).then(function (response) {
        return keep(request, response).then(function () { return response; });
      });
      if (hit) {
        event.waitUntil(refresh.catch(function () {}));
        return hit;
      }
      return refresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === new URL(self.location.href).pathname) { return; }
  if (url.pathname.indexOf(scopePath()) === 0) {
    event.respondWith(fromNetworkFirst(request));
  } else if (url.pathname.indexOf(staticPath()) === 0) {
    event.respondWith(fromCacheFirst(event));
  }
});
