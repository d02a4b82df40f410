/* Scales whose row of buttons does not fit (0-10 on a 390 px phone) become a slider showing the value. The radio
   buttons stay the form's fields (hidden, still submitted): moving the slider checks one, so an untouched slider
   records no answer. Without JavaScript the buttons wrap onto rows instead. */
(function () {
  document.documentElement.classList.add("js");
  var BUTTON = 44;
  document.querySelectorAll("[data-scale]").forEach(function (scale) {
    var radios = Array.prototype.slice.call(scale.querySelectorAll("input[type=radio]"));
    var n = radios.length;
    if (n < 2) return;
    var legend = scale.closest("fieldset").querySelector("legend");
    var middle = Math.floor((n - 1) / 2);
    var current = null;
    radios.forEach(function (r, i) { if (r.checked) current = i; });

    var wrap = document.createElement("div");
    wrap.className = "slider";
    wrap.hidden = true;
    var out = document.createElement("output");
    out.className = "slider-value";
    out.setAttribute("aria-live", "polite");
    var row = document.createElement("div");
    row.className = "slider-row";
    var lower = document.createElement("button");
    lower.type = "button"; lower.className = "step"; lower.textContent = "\u2212"; lower.setAttribute("aria-label", scale.dataset.lower || "Lower");
    var higher = document.createElement("button");
    higher.type = "button"; higher.className = "step"; higher.textContent = "+"; higher.setAttribute("aria-label", scale.dataset.higher || "Higher");
    var track = document.createElement("div");
    track.className = "slider-track";
    var range = document.createElement("input");
    range.type = "range"; range.min = 0; range.max = n - 1; range.step = 1;
    var name = legend ? legend.cloneNode(true) : null;
    if (name) name.querySelectorAll(".req, .visually-hidden").forEach(function (e) { e.remove(); });
    range.setAttribute("aria-label", name ? name.textContent.trim() : (scale.dataset.score || "Score"));
    var ticks = document.createElement("div");
    ticks.className = "ticks"; ticks.setAttribute("aria-hidden", "true");
    radios.forEach(function (r) { var t = document.createElement("span"); t.textContent = r.value; ticks.appendChild(t); });
    track.appendChild(range); track.appendChild(ticks);
    row.appendChild(lower); row.appendChild(track); row.appendChild(higher);
    wrap.appendChild(out); wrap.appendChild(row);
    scale.parentNode.insertBefore(wrap, scale.nextSibling);

    function show(i) {
      current = i;
      if (i === null) {
        range.value = middle; range.classList.add("unset"); out.classList.add("unset");
        out.textContent = scale.dataset.unset || "Not answered yet: move the slider or use \u2212 and +";
        range.setAttribute("aria-valuetext", scale.dataset.unsetValue || "not answered");
        return;
      }
      radios[i].checked = true;
      range.value = i; range.classList.remove("unset"); out.classList.remove("unset");
      out.textContent = radios[i].value;
      range.setAttribute("aria-valuetext", radios[i].value);
    }
    range.addEventListener("input", function () { show(Number(range.value)); });
    range.addEventListener("pointerdown", function () { if (current === null) show(Number(range.value)); });
    lower.addEventListener("click", function () { show(current === null ? middle : Math.max(0, current - 1)); });
    higher.addEventListener("click", function () { show(current === null ? middle : Math.min(n - 1, current + 1)); });
    show(current);

    function layout() {
      var gap = parseFloat(getComputedStyle(scale).columnGap) || 0;
      var box = getComputedStyle(scale.parentNode);
      var room = scale.parentNode.clientWidth - parseFloat(box.paddingLeft) - parseFloat(box.paddingRight);
      var fits = room >= n * BUTTON + (n - 1) * gap;
      scale.hidden = !fits;
      wrap.hidden = fits;
    }
    layout();
    window.addEventListener("resize", layout);
  });
})();
