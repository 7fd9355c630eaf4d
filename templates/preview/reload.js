// Preview only: reload this page when the site is rebuilt, or when the list
// of problems changes, so a save in the editor shows up by itself.
(function () {
  var seen = null;
  var events = new EventSource("/_preview/events");
  events.onmessage = function (event) {
    if (seen === null) {
      seen = event.data;
    } else if (event.data !== seen) {
      window.location.reload();
    }
  };
})();
