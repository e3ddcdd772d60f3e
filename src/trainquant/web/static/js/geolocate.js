// "Use my current location" on a venue's geofence form: the browser's position (a phone standing in
// the room) fills the form's latitude and longitude; nothing is sent until the form is saved.
// Browsers give a position to secure pages only (https, or localhost): elsewhere the button says so.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-geolocate]");
    if (!button) return;
    event.preventDefault();
    var form = button.closest("form");
    var status = form.querySelector("[data-geolocate-status]");
    function say(text) { if (status) status.textContent = text; }
    if (!window.isSecureContext || !navigator.geolocation) {
      say(button.getAttribute("data-insecure"));
      return;
    }
    say(button.getAttribute("data-waiting"));
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=latitude]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = pos.coords.longitude.toFixed(6);
      say(button.getAttribute("data-done").replace("%(m)s", Math.round(pos.coords.accuracy)));
    }, function () {
      say(button.getAttribute("data-failed"));
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  });
})();
