// Small behaviours only; pages work without JavaScript.
(function () {
  "use strict";
  // Idle log-off: after the clinic's timeout with no input, reload so the server ends the session
  // and nothing identifiable stays on an unattended screen.
  var timeout = parseInt(document.body.dataset.idleTimeout || "0", 10);
  if (timeout > 0) {
    var timer;
    var arm = function () {
      clearTimeout(timer);
      timer = setTimeout(function () { window.location.reload(); }, (timeout + 5) * 1000);
    };
    ["keydown", "mousedown", "touchstart", "scroll"].forEach(function (name) {
      document.addEventListener(name, arm, { passive: true });
    });
    arm();
  }
  // A select marked data-submit-on-change sends its form when changed (the clinic switch); inline handlers are not
  // allowed by the Content-Security-Policy. Without JavaScript its form has a button.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-submit-on-change]")) { event.target.form.submit(); }
  });
  // Fields marked data-select-on-focus select their text when focused (a link to copy).
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) { event.target.select(); }
  });
  // "/" jumps to the search box, as in most record systems.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.target.closest("input, textarea, select")) { return; }
    var search = document.querySelector("input[type=search]");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  });
})();
