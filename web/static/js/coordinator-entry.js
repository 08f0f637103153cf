/* The donation form, for an account choosing among several organizations (an
   admin): the site list offers only the chosen organization's sites. Without
   this script every site is listed and the server refuses another
   organization's site with a message on the field. */
(function () {
  "use strict";

  function filterSites(org, site) {
    var chosen = org.value;
    var options = site.querySelectorAll("option[data-org]");
    for (var i = 0; i < options.length; i++) {
      var other = chosen !== "" && options[i].getAttribute("data-org") !== chosen;
      options[i].hidden = other;
      options[i].disabled = other;
      if (other && options[i].selected) { site.value = ""; }
    }
  }

  function start() {
    var org = document.getElementById("org");
    var site = document.getElementById("site");
    if (!org || !site || org.tagName !== "SELECT") { return; }
    org.addEventListener("change", function () { filterSites(org, site); });
    filterSites(org, site);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
