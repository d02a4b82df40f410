// Calculator: "Check ... against the dose limit" copies the syringe's anaesthetic into the limit form.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.check-dose");
    if (!button) { return; }
    var form = document.getElementById("limit-form");
    if (!form) { return; }
    form.querySelector("[name=drug]").value = button.dataset.drug;
    var planned = form.querySelector("[name=planned_mg]");
    planned.value = button.dataset.mg;
    planned.dispatchEvent(new Event("change", { bubbles: true }));
    var weight = form.querySelector("[name=weight_kg]");
    document.getElementById("limit").scrollIntoView({ behavior: "smooth", block: "start" });
    (weight.value ? planned : weight).focus();
  });
})();
