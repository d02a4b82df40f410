// The intake's body picture (templates/intake/_body.svg): tapping a region ticks its radio button in the list, which
// stays the form's field (the page works without this script, and from the keyboard through the list).
(function () {
  var map = document.querySelector(".body-map");
  if (!map) return;
  function mark() {
    var chosen = document.querySelector('input[name="region"]:checked');
    map.querySelectorAll(".hot circle").forEach(function (c) {
      c.classList.toggle("chosen", !!chosen && c.getAttribute("data-region") === chosen.value);
    });
  }
  map.addEventListener("click", function (event) {
    var region = event.target.getAttribute && event.target.getAttribute("data-region");
    if (!region) return;
    var input = document.querySelector('input[name="region"][value="' + region + '"]');
    if (input) { input.checked = true; input.focus(); mark(); }
  });
  document.querySelectorAll('input[name="region"]').forEach(function (i) { i.addEventListener("change", mark); });
  mark();
})();
