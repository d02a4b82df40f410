// The injection map (templates/treatment/_injection_map.html): choosing a landmark or a free point fills the inputs
// landmark, x, y, map, view and side of the form named by data-form (those that exist, with data-field-prefix), shows
// where the next site goes and moves focus to the form's first visible field (or the one marked data-map-focus).
// Events are delegated from the document, so maps swapped in and out by HTMX need no wiring; htmx:load only shows
// a point already in the form (a form re-shown with errors). No framework.
(function () {
  "use strict";
  if (window.ProloTrackInjectionMap) { return; }

  var MAP = "[data-injection-map]";
  var ARROWS = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  function formOf(map) {
    var id = map.getAttribute("data-form");
    return id ? document.getElementById(id) : null;
  }

  function field(map, name) {
    var form = formOf(map);
    if (!form || !form.elements) { return null; }
    return form.elements.namedItem((map.getAttribute("data-field-prefix") || "") + name);
  }

  function setField(map, name, value) {
    var input = field(map, name);
    if (!input) { return; }
    var text = value === null || value === undefined ? "" : String(value);
    if (input.value === text) { return; }
    input.value = text;
    var target = input.dispatchEvent ? input : (input[0] || null);
    if (target) {
      target.dispatchEvent(new Event("input", { bubbles: true }));
      target.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function visible(element) {
    return !!(element.offsetWidth || element.offsetHeight || element.getClientRects().length);
  }

  function focusForm(map) {
    var form = formOf(map);
    if (!form) { return; }
    var chosen = form.querySelector("[data-map-focus]");
    if (!chosen || !visible(chosen) || chosen.disabled) {
      chosen = null;
      var fields = form.querySelectorAll("input, select, textarea");
      for (var i = 0; i < fields.length; i++) {
        var each = fields[i];
        var type = (each.getAttribute("type") || "").toLowerCase();
        if (each.disabled || type === "hidden" || type === "submit" || type === "button") { continue; }
        if (visible(each)) { chosen = each; break; }
      }
    }
    if (chosen) { chosen.focus(); }
  }

  function round(value) {
    return Math.round(value * 10) / 10;
  }

  function describe(point) {
    var where = point.side && point.side !== "both" ? ", " + point.side : "";
    if (point.landmark) { return "Next site: " + point.label + where + "."; }
    return "Next site: free point at " + point.x + ", " + point.y + where + ".";
  }

  function show(map, point) {
    var svg = map.querySelector(".map-svg");
    var marker = map.querySelector(".map-selection");
    if (marker) { marker.setAttribute("transform", "translate(" + point.x + " " + point.y + ")"); }
    map.classList.add("has-selection");
    map.querySelectorAll(".map-target, .map-list-item").forEach(function (each) {
      var same = !!point.landmark && each.getAttribute("data-landmark") === point.landmark &&
        each.getAttribute("data-side") === point.side;
      each.classList.toggle("is-selected", same);
      if (each.classList.contains("map-list-item")) { each.setAttribute("aria-pressed", same ? "true" : "false"); }
    });
    var status = map.querySelector("[data-map-status]");
    if (status) { status.textContent = describe(point); }
    floatLabel(map, null);
    if (svg) { svg.classList.add("has-selection"); }
  }

  // The name of the landmark under the finger, focused or chosen, drawn above the sites so nothing hides it.
  function floatLabel(map, element) {
    var label = map.querySelector(".map-float-label");
    if (!label) { return; }
    map.classList.add("has-float-label");
    var shown = element || map.querySelector(".map-target.is-selected");
    var source = shown && shown.querySelector(".map-target-label");
    if (!source) { label.classList.remove("is-shown"); return; }
    label.textContent = source.textContent;
    label.setAttribute("x", parseFloat(shown.getAttribute("data-x")) + parseFloat(source.getAttribute("x") || "0"));
    label.setAttribute("y", parseFloat(shown.getAttribute("data-y")) + parseFloat(source.getAttribute("y") || "0"));
    label.setAttribute("text-anchor", source.getAttribute("text-anchor") || "start");
    label.classList.add("is-shown");
  }

  function choose(map, point) {
    setField(map, "map", map.getAttribute("data-map"));
    setField(map, "view", map.getAttribute("data-view"));
    setField(map, "side", point.side);
    setField(map, "landmark", point.landmark || "");
    setField(map, "x", point.x);
    setField(map, "y", point.y);
    show(map, point);
    map.dispatchEvent(new CustomEvent("injection-map:chosen", { bubbles: true, detail: point }));
    focusForm(map);
  }

  function fromTarget(element) {
    return {
      landmark: element.getAttribute("data-landmark"),
      label: element.getAttribute("data-label"),
      side: element.getAttribute("data-side"),
      x: parseFloat(element.getAttribute("data-x")),
      y: parseFloat(element.getAttribute("data-y")),
    };
  }

  function freePointSide(map, x) {
    if (map.getAttribute("data-symmetric") !== "true") { return map.getAttribute("data-side"); }
    var midline = parseFloat(map.getAttribute("data-midline"));
    if (Math.abs(x - midline) <= 8) { return "midline"; }
    // Seen from behind, the patient's right is on the viewer's right.
    return x > midline ? "right" : "left";
  }

  function freePoint(map, svg, event) {
    var matrix = svg.getScreenCTM();
    if (!matrix) { return null; }
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var local = point.matrixTransform(matrix.inverse());
    var width = parseFloat(map.getAttribute("data-width"));
    var height = parseFloat(map.getAttribute("data-height"));
    if (!(local.x >= 0 && local.x <= width && local.y >= 0 && local.y <= height)) { return null; }
    var x = round(local.x);
    var y = round(local.y);
    return { landmark: "", label: "", side: freePointSide(map, x), x: x, y: y };
  }

  // Arrow keys move to the nearest landmark in that direction: first among those within 45 degrees of straight
  // ahead, else among any further that way (straight ahead counts more than sideways); at the end, the next in order.
  function neighbour(map, current, key) {
    var targets = Array.prototype.slice.call(map.querySelectorAll(".map-target"));
    var direction = ARROWS[key];
    var cx = parseFloat(current.getAttribute("data-x"));
    var cy = parseFloat(current.getAttribute("data-y"));
    var best = null;
    var bestScore = Infinity;
    targets.forEach(function (each) {
      if (each === current) { return; }
      var dx = parseFloat(each.getAttribute("data-x")) - cx;
      var dy = parseFloat(each.getAttribute("data-y")) - cy;
      var ahead = dx * direction[0] + dy * direction[1];
      if (ahead <= 0) { return; }
      var aside = Math.abs(dx * direction[1] - dy * direction[0]);
      var score = (ahead >= aside ? 0 : 100000) + ahead + 2 * aside;
      if (score < bestScore) { bestScore = score; best = each; }
    });
    if (best) { return best; }
    var index = targets.indexOf(current);
    var step = direction[0] + direction[1];
    return targets[(index + step + targets.length) % targets.length] || null;
  }

  document.addEventListener("click", function (event) {
    var map = event.target.closest && event.target.closest(MAP);
    if (!map || !map.classList.contains("is-interactive")) { return; }
    var target = event.target.closest(".map-target, .map-list-item");
    if (target) {
      event.preventDefault();
      choose(map, fromTarget(target));
      return;
    }
    var svg = event.target.closest("[data-map-canvas]");
    if (!svg) { return; }
    var point = freePoint(map, svg, event);
    if (point) { choose(map, point); }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target.closest && event.target.closest(".map-target");
    if (!target) { return; }
    var map = target.closest(MAP);
    if (!map) { return; }
    if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
      event.preventDefault();
      choose(map, fromTarget(target));
    } else if (ARROWS[event.key]) {
      event.preventDefault();
      var next = neighbour(map, target, event.key);
      if (next) { next.focus(); }
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      var all = map.querySelectorAll(".map-target");
      if (all.length) { all[event.key === "Home" ? 0 : all.length - 1].focus(); }
    }
  });

  function onTarget(event, leaving) {
    var element = event.target.closest && event.target.closest(".map-target");
    if (!element) { return; }
    var map = element.closest(MAP);
    if (map) { floatLabel(map, leaving ? null : element); }
  }
  document.addEventListener("focusin", function (event) { onTarget(event, false); });
  document.addEventListener("focusout", function (event) { onTarget(event, true); });
  document.addEventListener("pointerover", function (event) { onTarget(event, false); });
  document.addEventListener("pointerout", function (event) {
    var element = event.target.closest && event.target.closest(".map-target");
    if (!element || (event.relatedTarget && element.contains(event.relatedTarget))) { return; }
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".map-target");
    var map = element.closest(MAP);
    if (map) { floatLabel(map, focused && map.contains(focused) ? focused : null); }
  });

  // A point already in the form (a form shown again after a refusal) is shown on the map.
  function restore(map) {
    if (map.getAttribute("data-map-ready")) { return; }
    map.setAttribute("data-map-ready", "true");
    if (!map.classList.contains("is-interactive")) { return; }
    if (map.querySelector(".map-float-label")) { map.classList.add("has-float-label"); }
    var x = field(map, "x");
    var y = field(map, "y");
    var mapField = field(map, "map");
    if (!x || !y || x.value === "" || y.value === "") { return; }
    if (mapField && mapField.value && mapField.value !== map.getAttribute("data-map")) { return; }
    var landmark = field(map, "landmark");
    var side = field(map, "side");
    var code = landmark ? landmark.value : "";
    var point = { landmark: code, label: "", side: side && side.value ? side.value : map.getAttribute("data-side"), x: parseFloat(x.value), y: parseFloat(y.value) };
    if (isNaN(point.x) || isNaN(point.y)) { return; }
    if (code) {
      var match = map.querySelector('.map-target[data-landmark="' + code + '"][data-side="' + point.side + '"]') ||
        map.querySelector('.map-target[data-landmark="' + code + '"]');
      if (match) { point.label = match.getAttribute("data-label"); point.side = match.getAttribute("data-side"); }
    }
    show(map, point);
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches(MAP)) { restore(scope); }
    scope.querySelectorAll(MAP).forEach(restore);
  }

  document.addEventListener("htmx:load", function (event) { init(event.detail && event.detail.elt); });
  document.addEventListener("reset", function (event) {
    document.querySelectorAll(MAP).forEach(function (map) {
      if (formOf(map) !== event.target) { return; }
      map.classList.remove("has-selection");
      map.querySelectorAll(".is-selected").forEach(function (each) { each.classList.remove("is-selected"); });
      map.querySelectorAll(".map-list-item").forEach(function (each) { each.setAttribute("aria-pressed", "false"); });
    });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }

  window.ProloTrackInjectionMap = { init: init };
})();
