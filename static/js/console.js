/* Attribute fields (the page works without this script):
   - a ticked "clear" box dims its input; typing into (or clicking) a not-set field unticks it, and
     leaving that field empty ticks it again, so a click alone never turns "not set" into empty text;
   - the state badge says what a save will do ("not set · will be set");
   - an incomplete date in a date-and-time picker is kept (inline validation waits for a whole date)
     and explained in the picker's own format. */
(function () {
  "use strict";

  function clearBoxOf(input) {
    var field = input.closest(".field");
    return field ? field.querySelector("input[data-clears='" + input.id + "']") : null;
  }

  function syncClear(box) {
    var input = document.getElementById(box.getAttribute("data-clears"));
    if (!input) { return; }
    var field = box.closest(".field");
    if (field) { field.classList.toggle("is-cleared", box.checked); }
    var state = document.getElementById(input.id + "-state");
    var notSet = state && state.querySelector(".value-null");
    if (notSet) {
      if (!notSet.hasAttribute("data-text")) { notSet.setAttribute("data-text", notSet.textContent); }
      notSet.textContent = notSet.getAttribute("data-text") +
        (!box.checked && input.value !== "" ? " · " + (document.body.getAttribute("data-t-will-be-set") || "will be set") : "");
    }
  }

  function syncAll() {
    var boxes = document.querySelectorAll("input[data-clears]");
    for (var i = 0; i < boxes.length; i++) { syncClear(boxes[i]); }
  }

  function untick(input) {
    var box = clearBoxOf(input);
    if (box && box.checked) {
      box.checked = false;
      input.setAttribute("data-unticked", "1");
      syncClear(box);
    }
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box && box.matches && box.matches("input[data-clears]")) { syncClear(box); }
  }, true);
  document.addEventListener("pointerdown", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches(".field .control > input")) { untick(input); }
  }, true);
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    var quiet = ["Tab", "Shift", "Control", "Alt", "Meta", "Escape", "Enter"];
    if (input && input.matches && input.matches(".field .control > input") && quiet.indexOf(event.key) < 0) {
      untick(input);
    }
  }, true);
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches(".field .control > input")) {
      untick(input);
      var box = clearBoxOf(input);
      if (box) { syncClear(box); }
    }
  }, true);
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (!input || !input.matches || !input.hasAttribute("data-unticked")) { return; }
    var box = clearBoxOf(input);
    var state = document.getElementById(input.id + "-state");
    var wasNotSet = state && state.querySelector(".value-null");
    if (box && wasNotSet && input.value === "" && !(input.validity && input.validity.badInput)) {
      box.checked = true;
      input.removeAttribute("data-unticked");
      syncClear(box);
    }
  }, true);

  /* --- an incomplete date and time ------------------------------------------------------------------ */

  function pickerExample() {
    return new Date(2030, 0, 31, 12, 0, 5).toLocaleString(document.documentElement.lang || undefined);
  }

  function showIncomplete(input) {
    var error = document.getElementById(input.id + "-error");
    if (error) {
      var text = document.body.getAttribute(clearBoxOf(input) ? "data-t-whole-date-or-never" : "data-t-whole-date") ||
        "Enter the whole date and time as the picker shows it, e.g. {example}.";
      error.textContent = text.replace("{example}", pickerExample());
      error.hidden = false;
    }
    input.setAttribute("aria-invalid", "true");
    var field = input.closest(".field");
    if (field) { field.classList.add("has-error"); }
  }

  function incomplete(input) {
    return input && input.type === "datetime-local" && input.validity && input.validity.badInput;
  }

  /* Inline validation would send "" for a half-typed date and redraw the field, wiping what was typed. */
  document.addEventListener("htmx:before:request", function (event) {
    if (incomplete(event.target)) {
      event.preventDefault();
      showIncomplete(event.target);
    }
  });
  /* The browser refuses to submit a form holding a half-typed date: say why, in words, at the field. */
  document.addEventListener("invalid", function (event) {
    var input = event.target;
    if (incomplete(input)) {
      event.preventDefault();
      showIncomplete(input);
      input.focus();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", syncAll);
  window.addEventListener("pageshow", syncAll);        /* back/forward cache restores box states */
  document.addEventListener("htmx:after:swap", syncAll);
  document.addEventListener("htmx:after:settle", syncAll);
}());
