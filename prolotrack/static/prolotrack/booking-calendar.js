// Drag to move on the staff calendar's week (docs/BOOKING.md, "Drag to move"). An appointment of the booking app
// dropped on a day column at a time is posted to its "drop" address, which moves it through the same service as the
// appointment page's form, with the same rules; the answer is shown in the status line and the week is reloaded.
// Without JavaScript (or with the keyboard) the appointment's page and its "Move to" form do the same.
(function () {
  "use strict";

  function grid() { return document.querySelector(".week-grid[data-drop-step]"); }

  function csrf() {
    var body = document.body.getAttribute("hx-headers");
    try { return JSON.parse(body)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function say(text, bad) {
    var line = document.getElementById("cal-drop-status");
    if (!line) { return; }
    line.textContent = text;
    line.classList.toggle("warn-banner", !!bad);
  }

  // The wall-clock time at a point of a day column, on the clinic's grid from the column's first hour.
  function timeAt(column, clientY, step, firstHour, lastHour) {
    var box = column.getBoundingClientRect();
    var span = (lastHour - firstHour) * 60;
    var minutes = Math.round(((clientY - box.top) / box.height) * span / step) * step;
    minutes = Math.max(0, Math.min(span - step, minutes)) + firstHour * 60;
    var h = Math.floor(minutes / 60), m = minutes % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  var dragged = null, grabY = 0;

  document.addEventListener("dragstart", function (event) {
    var visit = event.target.closest && event.target.closest("a.visit[data-drop]");
    if (!visit || !grid()) { return; }
    dragged = visit;
    grabY = event.clientY - visit.getBoundingClientRect().top;  // where in the block it was taken
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", visit.getAttribute("data-drop"));
  });

  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".day-col[data-day]")) { event.preventDefault(); }
  });

  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".day-col[data-day]");
    var week = grid();
    if (!dragged || !column || !week) { return; }
    event.preventDefault();
    var step = parseInt(week.getAttribute("data-drop-step"), 10) || 15;
    var first = parseInt(week.getAttribute("data-first-hour"), 10);
    var last = first + parseInt(week.getAttribute("data-hours"), 10);
    var day = column.getAttribute("data-day");
    var clock = timeAt(column, event.clientY - grabY, step, first, last);
    var body = new URLSearchParams({ day: day, time: clock, version: dragged.getAttribute("data-version") });
    var visit = dragged;
    dragged = null;
    say("Moving to " + day + " " + clock + "…", false);
    fetch(visit.getAttribute("data-drop"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      say(result.answer.message, !result.ok);
      if (result.ok) { window.location.reload(); }
    }).catch(function () {
      say("The move could not be sent. Open the appointment to move it with the form.", true);
    });
  });

  document.addEventListener("dragend", function () { dragged = null; });
})();
