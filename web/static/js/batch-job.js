/* A batch job's page: polls its JSON status and updates the progress bar, the
   stage, and the links, until the job is done or failed. Without scripts the
   page offers a refresh link instead. */
(function () {
  "use strict";
  var POLL_MS = 1500;
  var MAX_FAILURES = 5;

  function start() {
    var box = document.getElementById("job");
    if (!box) { return; }
    var url = box.getAttribute("data-status-url");
    var bar = document.getElementById("job-progress");
    var stage = document.getElementById("job-stage");
    var status = document.getElementById("job-status");
    var error = document.getElementById("job-error");
    var errorText = document.getElementById("job-error-text");
    var reviewBox = document.getElementById("job-review");
    var reviewLink = document.getElementById("job-review-link");
    var refresh = document.getElementById("job-refresh");
    var labels = {};
    try { labels = JSON.parse(document.getElementById("job-labels").textContent).statuses || {}; } catch (e) { labels = {}; }
    var failures = 0;

    function show(data) {
      if (typeof data.progress === "number") {
        bar.value = data.progress;
        bar.textContent = Math.round(data.progress * 100) + " %";
      }
      if (data.stage_label && stage.textContent !== data.stage_label) { stage.textContent = data.stage_label; }
      if (data.status) {
        status.textContent = labels[data.status] || data.status;
        status.className = "status status-" + data.status;
        box.setAttribute("data-status", data.status);
      }
      if (data.status === "failed") {
        errorText.textContent = data.error || "";
        error.hidden = false;
      }
      if (data.review_url) {
        reviewLink.setAttribute("href", data.review_url);
        reviewBox.hidden = false;
      }
      if (data.status === "done" || data.status === "failed") { refresh.hidden = true; }
    }

    function poll() {
      var request = new XMLHttpRequest();
      request.open("GET", url);
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        var data = null;
        if (request.status === 200) {
          try { data = JSON.parse(request.responseText); } catch (e) { data = null; }
        }
        if (!data) { failures += 1; } else { failures = 0; show(data); }
        var finished = data && (data.status === "done" || data.status === "failed");
        if (!finished && failures < MAX_FAILURES) { window.setTimeout(poll, POLL_MS); }
      };
      request.onerror = function () {
        failures += 1;
        if (failures < MAX_FAILURES) { window.setTimeout(poll, POLL_MS * 2); }
      };
      request.send();
    }

    var current = box.getAttribute("data-status");
    if (current !== "done" && current !== "failed") { window.setTimeout(poll, 500); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
