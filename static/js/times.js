/* Times: the server writes every time as <time datetime="…(UTC)">YYYY-MM-DD HH:MM:SS UTC</time>; this
   shows it in the viewer's own time zone, in the same form, with the zone named (the UTC text stays in
   the title). Without JavaScript, or in a UTC zone, the UTC text stays as it is. */
(function () {
  "use strict";

  var zone = (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  var isUtc = /^(Etc\/)?(UTC|GMT|Universal|Zulu)$/i.test(zone);
  var parts = new Intl.DateTimeFormat("en-CA", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23", timeZoneName: "short"
  });

  // English keeps the ISO-like form; another page language writes times its own way (<html lang>).
  var lang = document.documentElement.lang || "en";
  var native = lang.split("-")[0] === "en" ? null : new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hourCycle: "h23", timeZoneName: "short"
  });

  function local(date) {
    if (native) { return native.format(date); }
    var p = {};
    parts.formatToParts(date).forEach(function (part) { p[part.type] = part.value; });
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second + " " +
      (p.timeZoneName || zone);
  }

  function localize() {
    if (isUtc) { return; }
    var times = document.querySelectorAll("time[datetime]:not([data-local])");
    for (var i = 0; i < times.length; i++) {
      var date = new Date(times[i].getAttribute("datetime"));
      if (isNaN(date.getTime())) { continue; }
      times[i].setAttribute("title", times[i].textContent.trim());
      times[i].textContent = local(date);
      times[i].setAttribute("data-local", zone);
    }
    var note = document.getElementById("time-note");
    if (note) { note.textContent = note.getAttribute("data-local-text").replace("{zone}", zone); }
  }

  document.addEventListener("DOMContentLoaded", localize);
  document.addEventListener("htmx:after:settle", localize);
}());
