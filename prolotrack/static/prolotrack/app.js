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
  // "/" jumps to the search box, as in most record systems.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.target.closest("input, textarea, select")) { return; }
    var search = document.querySelector("input[type=search]");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  });
})();
