/* A route sheet's print button: shown only when scripts run (the browser's own
   print command works either way). */
(function () {
  "use strict";
  function start() {
    var button = document.getElementById("print-sheet");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
