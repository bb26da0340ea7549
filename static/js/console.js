/* The console's only script: a ticked "clear" box disables its input (and the page works without it). */
(function () {
  "use strict";

  function syncClear(box) {
    var input = document.getElementById(box.getAttribute("data-clears"));
    if (!input) { return; }
    input.disabled = box.checked;
    var field = box.closest(".field");
    if (field) { field.classList.toggle("is-cleared", box.checked); }
  }

  function syncAll() {
    var boxes = document.querySelectorAll("input[data-clears]");
    for (var i = 0; i < boxes.length; i++) { syncClear(boxes[i]); }
  }

  /* Capture phase: the input is disabled before htmx reads the form for inline validation. */
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.matches && box.matches("input[data-clears]")) { syncClear(box); }
  }, true);
  document.addEventListener("DOMContentLoaded", syncAll);
  window.addEventListener("pageshow", syncAll);        /* back/forward cache restores box states */
  document.addEventListener("htmx:after:swap", syncAll);
  document.addEventListener("htmx:after:settle", syncAll);
}());
