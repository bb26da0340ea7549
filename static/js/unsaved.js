/* Leaving a form with edits asks first (beforeunload): a form counts as edited when a box, choice or
   tick differs from what the page brought, or when the page is a refused save that still holds the
   person's input. Submitting a form, and any page after a save, asks nothing.
   "What the page brought" is noted when a form arrives (the page's load, or an htmx swap that brings a
   new form): the inline check redraws a field with the typed text as the box's own value, so the box's
   defaults alone would no longer show the edit. */
(function () {
  "use strict";

  var FORMS = "form[method='post']:not(.logout-form):not([data-no-unsaved])";
  var leaving = false;
  var brought = new WeakMap();  /* form → {control key: its state when the form arrived} */

  function counted(c) {
    return !(c.type === "hidden" || c.type === "submit" || c.type === "button" || c.disabled);
  }

  function key(c) {
    return (c.name || c.id) + (c.type === "checkbox" || c.type === "radio" ? "=" + c.value : "");
  }

  /* A control's state, as it stands now or (`initial`) as its markup sets it. */
  function state(c, initial) {
    if (c.type === "checkbox" || c.type === "radio") {
      return String(initial ? c.defaultChecked : c.checked);
    }
    if (c.tagName === "SELECT") {
      var picked = [];
      for (var j = 0; j < c.options.length; j++) {
        if (initial ? c.options[j].defaultSelected : c.options[j].selected) { picked.push(j); }
      }
      /* A one-line list with no option marked shows its first one: that is what the page brought. */
      if (initial && !picked.length && !c.multiple && c.size <= 1 && c.options.length) { picked.push(0); }
      return picked.join(",");
    }
    return timeValue(c, initial ? c.defaultValue : c.value);
  }

  /* A time as the browser keeps it: Chromium shows `…T00:00:00` from the markup as `…T00:00` (no zero
     seconds), so the markup's form would otherwise differ from the box's own value with no edit made. */
  function timeValue(c, value) {
    if (c.type !== "datetime-local" && c.type !== "time") { return value; }
    return value.replace(/(\d\d:\d\d):00(\.0+)?$/, "$1");
  }

  function note(form) {
    if (brought.has(form)) { return; }
    var states = {};
    for (var i = 0; i < form.elements.length; i++) {
      var c = form.elements[i];
      if (counted(c)) { states[key(c)] = state(c, true); }
    }
    brought.set(form, states);
  }

  function noteAll() {
    var forms = document.querySelectorAll(FORMS);
    for (var i = 0; i < forms.length; i++) { note(forms[i]); }
  }

  function edited(form) {
    var states = brought.get(form) || {};
    var controls = form.elements;
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i];
      if (!counted(c)) { continue; }
      var k = key(c);
      var before = Object.prototype.hasOwnProperty.call(states, k) ? states[k] : state(c, true);
      if (state(c, false) !== before || (c.validity && c.validity.badInput)) { return true; }
    }
    return !!form.querySelector("#field-errors, #conflict-message");
  }

  document.addEventListener("DOMContentLoaded", noteAll);
  document.addEventListener("htmx:after:swap", noteAll);  /* a new form (a field redrawn keeps its form's note) */
  document.addEventListener("submit", function () { leaving = true; }, true);
  document.addEventListener("htmx:after:request", function () { leaving = false; });
  window.addEventListener("pageshow", function () { leaving = false; });
  window.addEventListener("beforeunload", function (event) {
    if (leaving) { return; }
    var forms = document.querySelectorAll(FORMS);
    for (var i = 0; i < forms.length; i++) {
      if (edited(forms[i])) {
        event.preventDefault();
        event.returnValue = "";
        return;
      }
    }
  });
}());
