/* Leaving a form with edits asks first (beforeunload): a form counts as edited when a box, choice or
   tick differs from what the page brought, or when the page is a refused save that still holds the
   person's input. Submitting a form, and any page after a save, asks nothing. */
(function () {
  "use strict";

  var FORMS = "form[method='post']:not(.logout-form):not([data-no-unsaved])";
  var leaving = false;

  function edited(form) {
    var controls = form.elements;
    for (var i = 0; i < controls.length; i++) {
      var c = controls[i];
      if (c.type === "hidden" || c.type === "submit" || c.type === "button" || c.disabled) { continue; }
      if (c.type === "checkbox" || c.type === "radio") {
        if (c.checked !== c.defaultChecked) { return true; }
      } else if (c.tagName === "SELECT") {
        for (var j = 0; j < c.options.length; j++) {
          if (c.options[j].selected !== c.options[j].defaultSelected) { return true; }
        }
      } else if (c.value !== c.defaultValue || (c.validity && c.validity.badInput)) {
        return true;
      }
    }
    return !!form.querySelector("#field-errors, #conflict-message");
  }

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
