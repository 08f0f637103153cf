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
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: !!data.tiles });
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
    } else {
      element.classList.add("no-tiles");
    }
    var bounds = [];
    (data.lines || []).forEach(function (line) {
      if (!line.points || line.points.length < 2) { return; }
      var poly = L.polyline(line.points, { color: line.color || "#0b5d4b", weight: 4, opacity: 0.85 });
      if (line.label) { poly.bindTooltip(line.label); }
      poly.addTo(map);
      line.points.forEach(function (p) { bounds.push(p); });
    });
    (data.stops || []).forEach(function (stop) {
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
