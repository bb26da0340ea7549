/* Copy buttons: <button data-copy="ELEMENT-ID" hidden> copies that element's text (shown only with JS). */
(function () {
  "use strict";

  function init() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      if (navigator.clipboard) { buttons[i].hidden = false; }
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
    navigator.clipboard.writeText(source ? source.textContent.trim() : "").then(function () {
      if (status) { status.textContent = document.body.getAttribute("data-t-copied") || "Copied."; }
    }, function () {
      if (status) { status.textContent = document.body.getAttribute("data-t-copy-failed") ||
        "Could not copy: select the id and copy it by hand."; }
    });
  });
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:after:settle", init);
}());
