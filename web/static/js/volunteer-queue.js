/* The phone's queue of delivery marks not yet acknowledged by the server.

   window.JessrQueue: add(mark), all() (oldest first), remove(key). Marks live in
   IndexedDB (database "jessr-volunteer", store "marks", keyed by the mark's
   idempotency key), so they survive closing the browser with no connection; where
   IndexedDB is unavailable (some private modes), in localStorage. A mark is removed
   only once the server answered it, and a mark sent twice is applied once (the
   server keeps its key), so a retry is always safe. */
(function (global) {
  "use strict";
  var DB_NAME = "jessr-volunteer";
  var STORE = "marks";
  var FALLBACK_KEY = "jessr-volunteer-marks";
  var opened = null;

  function openDb() {
    if (opened) { return opened; }
    opened = new Promise(function (resolve, reject) {
      if (!global.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request;
      try { request = global.indexedDB.open(DB_NAME, 1); } catch (e) { reject(e); return; }
      request.onupgradeneeded = function () {
        if (!request.result.objectStoreNames.contains(STORE)) {
          request.result.createObjectStore(STORE, { keyPath: "key" });
        }
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
      request.onblocked = function () { reject(new Error("IndexedDB blocked")); };
    });
    return opened;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  /* localStorage: the same three operations on one JSON array. */
  function readFallback() {
    try { return JSON.parse(global.localStorage.getItem(FALLBACK_KEY) || "[]"); } catch (e) { return []; }
  }
  function writeFallback(marks) {
    global.localStorage.setItem(FALLBACK_KEY, JSON.stringify(marks));
  }
  var fallback = {
    add: function (mark) {
      var marks = readFallback().filter(function (m) { return m.key !== mark.key; });
      marks.push(mark);
      writeFallback(marks);
      return Promise.resolve();
    },
    remove: function (key) {
      writeFallback(readFallback().filter(function (m) { return m.key !== key; }));
      return Promise.resolve();
    }
  };

  function oldestFirst(marks) {
    return (marks || []).slice().sort(function (a, b) { return a.seq - b.seq; });
  }

  var counter = 0;
  global.JessrQueue = {
    /* A sequence number: marks are sent in the order they were made (a pickup
       before its delivery), even when made within the same millisecond. */
    nextSeq: function () { counter += 1; return Date.now() * 1000 + (counter % 1000); },
    add: function (mark) {
      return withStore("readwrite", function (store) { store.put(mark); })
        .catch(function () { return fallback.add(mark); });
    },
    all: function () {
      return withStore("readonly", function (store) { return store.getAll(); })
        .catch(function () { return []; })
        .then(function (stored) {
          var seen = {};
          var marks = [];
          (stored || []).concat(readFallback()).forEach(function (mark) {
            if (!seen[mark.key]) { seen[mark.key] = true; marks.push(mark); }
          });
          return oldestFirst(marks);
        });
    },
    remove: function (key) {
      return withStore("readwrite", function (store) { store["delete"](key); })
        .catch(function () { return undefined; })
        .then(function () { return fallback.remove(key); });
    }
  };
})(window);
