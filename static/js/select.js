/* The users list: "select all on this page" (the box is shown only here, with this script; without it each
   row's box still works). Ticking it ticks every row of the page; ticking rows by hand sets it to on, off or
   part ("mixed"). The list is redrawn by htmx, so everything is looked up at the time of the event. */
(function () {
  "use strict";

  function rows(form) {
    return form.querySelectorAll("input[type='checkbox'][name='user_id']");
  }

  function sync(form) {
    var all = form.querySelector("#select-all");
    if (!all) { return; }
    var boxes = rows(form);
    var ticked = 0;
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { ticked++; } }
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  function init() {
    var wrappers = document.querySelectorAll("[data-select-all]");
    for (var i = 0; i < wrappers.length; i++) {
      wrappers[i].hidden = false;
      var form = wrappers[i].closest("form");
      if (form) { sync(form); }
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box || !box.form || box.type !== "checkbox") { return; }
    if (box.id === "select-all") {
      var boxes = rows(box.form);
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = box.checked; }
    } else if (box.name === "user_id") {
      sync(box.form);
    }
  });
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:after:settle", init);
  window.addEventListener("pageshow", init);  /* back/forward cache restores ticks */
}());
