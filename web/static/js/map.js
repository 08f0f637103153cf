/* Jessr maps: draws every element with class "jessr-map" from the JSON data block
   its data-source attribute names (a <script type="application/json"> block: no
   inline script, the CSP allows none).

   Data: {"tiles": url template or null, "attribution": text,
          "stops": [{"lat", "lon", "label", "kind": "pickup"|"delivery"|"home"|"need"|"stock",
                     "order": n, "color": css colour (optional)}],
          "lines": [{"points": [[lat, lon], ...], "color": css colour, "label": text}]}

   Without a tile server (or offline) the route and stops are still drawn, on a
   plain background: a volunteer without data still sees the order of the stops. */
(function () {
  "use strict";
  var KIND_COLOURS = {
    pickup: "#8a3b00", delivery: "#0b5d4b", home: "#1b1f24", need: "#a4161a", stock: "#1d4ed8"
  };

  function draw(element) {
    if (typeof L === "undefined") { return; }
    var source = document.getElementById(element.getAttribute("data-source"));
    if (!source) { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (e) { return; }
    var map = L.map(element, {
      scrollWheelZoom: false, attributionControl: !!data.tiles, zoomControl: false
    });
    /* The zoom buttons' titles in the page's language (Leaflet's are English). */
    L.control.zoom({
      zoomInTitle: element.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: element.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
    } else {
      element.classList.add("no-tiles");
    }
    var bounds = [];
    function finite(p) {
      return p && isFinite(p[0]) && isFinite(p[1]) && p[0] !== null && p[1] !== null;
    }
    (data.lines || []).forEach(function (line) {
      var points = (line.points || []).filter(finite);
      if (points.length < 2) { return; }
      var poly = L.polyline(points, { color: line.color || "#0b5d4b", weight: 4, opacity: 0.85 });
      if (line.label) { poly.bindTooltip(line.label); }
      poly.addTo(map);
      points.forEach(function (p) { bounds.push(p); });
    });
    (data.stops || []).forEach(function (stop) {
      /* A stop without a place (a household outside its contact window) is listed
         on the page, not drawn. */
      if (!finite([stop.lat, stop.lon])) { return; }
      var colour = stop.color || KIND_COLOURS[stop.kind] || "#1b1f24";
      var marker = L.circleMarker([stop.lat, stop.lon], {
        radius: stop.kind === "home" ? 6 : 9, color: "#ffffff", weight: 2,
        fillColor: colour, fillOpacity: 1
      });
      var text = (stop.order !== undefined && stop.order !== null ? stop.order + ". " : "") + (stop.label || "");
      if (text) { marker.bindTooltip(text, { permanent: !!data.permanentLabels, direction: "top" }); }
      marker.addTo(map);
      bounds.push([stop.lat, stop.lon]);
    });
    /* A map laid out while hidden has no size yet: fitting bounds then divides by
       zero (NaN centre); measure again once the page is laid out. */
    map.invalidateSize();
    if (bounds.length === 1) {
      map.setView(bounds[0], 14);
    } else if (bounds.length > 1) {
      map.fitBounds(bounds, { padding: [24, 24] });
    } else {
      map.setView([34.5, 9.5], 6);  /* Tunisia */
    }
    element.jessrMap = map;
  }

  function start() {
    var elements = document.querySelectorAll(".jessr-map");
    for (var i = 0; i < elements.length; i++) { draw(elements[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
