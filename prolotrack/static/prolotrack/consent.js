/* Consent signing: one signature_pad (vendor/signature_pad, MIT) per canvas. Pointer events, so a mouse, a pen and a
   finger all draw. The pad's PNG goes into the hidden textarea next to it after every stroke; the server checks it. */
(function () {
  "use strict";
  function setUp(box) {
    var canvas = box.querySelector("canvas.signature-pad");
    var target = document.getElementById(canvas.dataset.target);
    var pad = new window.SignaturePad(canvas, { minWidth: 0.8, maxWidth: 2.6, penColor: "#14213d" });
    function resize() {
      // Draw at the screen's pixel density; resizing clears the canvas, so keep what was drawn.
      var data = pad.toData();
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(data);
    }
    function store() {
      target.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
      box.classList.toggle("signed", !pad.isEmpty());
      if (!pad.isEmpty()) box.classList.remove("has-error");
    }
    pad.addEventListener("endStroke", store);
    box.querySelector("[data-clear]").addEventListener("click", function () { pad.clear(); store(); });
    window.addEventListener("resize", resize);
    resize();
    target.value = "";
    return store;
  }
  function init() {
    // The consent form, or the Medicare ABN's (billing), which signs the same way.
    var form = document.getElementById("consent-sign") || document.getElementById("abn-sign");
    if (!form || !window.SignaturePad) return;
    var stores = Array.prototype.map.call(form.querySelectorAll("[data-pad]"), setUp);
    form.addEventListener("submit", function () { stores.forEach(function (s) { s(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
