// Imaging study form: show the findings of the chosen body region and the general ones; disable the rest so a
// finding ticked under another region is not sent. Without JavaScript every group shows and the server checks.
(function () {
  function sync() {
    var select = document.getElementById("id_body_region");
    if (!select) return;
    var region = select.value;
    document.querySelectorAll(".img-finding-group").forEach(function (group) {
      var show = group.dataset.region === "general" || group.dataset.region === region;
      group.hidden = !show;
      group.querySelectorAll("input").forEach(function (input) { input.disabled = !show; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_body_region");
    if (!select) return;
    select.addEventListener("change", sync);
    sync();
  });
})();
