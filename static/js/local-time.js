// Adds the visitor's own time beside each offered consultation time when
// their time zone shows another hour than the practice's ("9:00 AM" and,
// below it, "12:00 PM your time"). The page names the practice's zone
// without it, so nothing depends on this script.
(function () {
  "use strict";
  var group = document.querySelector("[data-practice-zone]");
  if (!group || !window.Intl) return;
  var practice = group.getAttribute("data-practice-zone");
  var visitor = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!visitor || visitor === practice) return;
  function formatter(zone, withDay) {
    var options = { timeZone: zone, hour: "numeric", minute: "2-digit" };
    if (withDay) options.weekday = "short";
    return new Intl.DateTimeFormat("en-US", options);
  }
  var day = { practice: formatter(practice, true), visitor: formatter(visitor, true) };
  var time = formatter(visitor, false);
  var slots = group.querySelectorAll("input[name=slot]");
  for (var i = 0; i < slots.length; i++) {
    var start = new Date(Number(slots[i].value) * 1000);
    var there = day.practice.format(start);
    var here = day.visitor.format(start);
    if (isNaN(start.getTime()) || there === here) continue;
    var label = group.querySelector("label[for='" + slots[i].id + "']");
    if (!label) continue;
    // The weekday only when it is another day where the visitor is.
    var sameDay = there.split(" ")[0] === here.split(" ")[0];
    var hint = document.createElement("span");
    hint.className = "booking-local";
    var pause = document.createElement("span");
    pause.className = "booking-visually-hidden";
    pause.textContent = ", ";
    hint.appendChild(pause);
    hint.appendChild(document.createTextNode((sameDay ? time.format(start) : here) + " your time"));
    label.appendChild(hint);
  }
})();
