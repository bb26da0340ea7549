/* Where the focus goes when a page or an htmx swap brings news: a refused save's error summary (or the
   only bad field), a conflict notice, else a new flash message (#messages is a polite live region).
   Each is handled once, and scrolled to the middle unless it is in view already. */
(function () {
  "use strict";

  var NEWS = "#field-errors, #form-errors, #conflict-message, #action-error, " +
             "#set-password-errors, #password-errors, #bulk-error, #messages .flash";

  function focusOn(element) {
    if (!element.hasAttribute("tabindex") && !element.matches("input, select, textarea, button, a[href]")) {
      element.setAttribute("tabindex", "-1");
    }
    var box = element.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {  // a page in view does not jump under the pointer
      element.scrollIntoView({block: "center"});
    }
    element.focus({preventScroll: true});
  }

  function onlyBadField(summary) {
    var links = summary.querySelectorAll("a[href^='#']");
    if (links.length !== 1) { return null; }
    return document.getElementById(links[0].getAttribute("href").slice(1));
  }

  function announce() {
    var news = document.querySelectorAll(NEWS);
    var first = null;
    for (var i = 0; i < news.length; i++) {
      if (!news[i].hasAttribute("data-announced")) {
        news[i].setAttribute("data-announced", "1");
        first = first || news[i];
      }
    }
    if (!first) { return; }
    var field = first.id === "field-errors" ? onlyBadField(first) : null;
    focusOn(field || first);
  }

  document.addEventListener("DOMContentLoaded", announce);
  document.addEventListener("htmx:after:settle", announce);
}());
