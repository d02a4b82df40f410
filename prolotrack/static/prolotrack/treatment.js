// Treatment pages. Small behaviours only: every form also works as a plain form.
(function () {
  "use strict";

  // Checklist: choosing Yes / No / N/A saves the item at once (HTMX swaps the checklist in place).
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches("form[data-autosubmit] input[type=radio]")) { return; }
    var form = radio.form;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });

  // A keyboard user moving through the answers keeps focus on the same answer after the checklist is swapped in.
  var focusedId = "";
  document.addEventListener("htmx:beforeRequest", function () {
    focusedId = document.activeElement && document.activeElement.id ? document.activeElement.id : "";
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "checklist" || !focusedId) { return; }
    var again = document.getElementById(focusedId);
    if (again) { again.focus({ preventScroll: true }); }
  });

  // Starting a course: a protocol template fills in its body region.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-protocol-select]")) { return; }
    var option = select.options[select.selectedIndex];
    var region = option && option.getAttribute("data-region");
    var field = select.form && select.form.elements.namedItem("region");
    if (region && field) { field.value = region; }
  });

  // The site form says which point the map chose, next to the volume being typed.
  document.addEventListener("injection-map:chosen", function (event) {
    var map = event.target;
    var form = document.getElementById(map.getAttribute("data-form") || "");
    var line = form && form.querySelector("[data-chosen-point]");
    if (!line) { return; }
    var point = event.detail || {};
    line.textContent = point.landmark ? "Next site: " + point.label + (point.side ? " (" + point.side + ")" : "")
      : "Next site: free point at " + point.x + ", " + point.y + " — name it below.";
  });

  // After a site is added or refused, focus goes where the user needs it next.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "site-work") { return; }
    var work = document.getElementById("site-work");
    if (!work) { return; }
    var refused = work.querySelector(".errors.refusal, .has-error");
    if (refused) {
      var field = work.querySelector(".has-error input, .has-error select") || refused;
      if (!field.hasAttribute("tabindex") && field === refused) { refused.setAttribute("tabindex", "-1"); }
      field.focus({ preventScroll: false });
      return;
    }
    // Added: the confirmation takes focus (without scrolling), so a keyboard user hears it and tabs on to the map.
    var added = work.querySelector(".site-added");
    if (added) { added.setAttribute("tabindex", "-1"); added.focus({ preventScroll: true }); }
  });
})();
