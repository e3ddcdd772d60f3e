// The phone check-in page: asks for the location, posts one event to the JSON API, shows the verdict.
// Without JavaScript the form posts to /checkin instead (QR only, no location).
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var messages = JSON.parse(document.getElementById("checkin-messages").textContent);
  var result = document.querySelector("[data-testid=checkin-result]");
  var d = form.dataset;
  // The server's clock, not the phone's: a phone set a few minutes wrong must not be refused.
  var serverNow = Date.parse(d.serverNow);
  var loadedAt = performance.now();
  var busy = false;

  function nowIso() { return new Date(serverNow + (performance.now() - loadedAt)).toISOString(); }

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function show(cls, text) { result.className = "checkin-result " + cls; result.textContent = text; }

  function locate() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        function (pos) { resolve(pos.coords); },
        function () { resolve(null); },  // refused or unavailable: send without coordinates
        { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 }
      );
    });
  }

  function send(kind, coords) {
    var event = { event_id: uuid4(), employee_no: d.employee, session: d.session, kind: kind, at: nowIso() };
    if (d.token) { event.method = "qr"; event.qr_token = d.token; } else { event.method = "geo"; }
    if (coords) {
      event.lat = coords.latitude; event.lng = coords.longitude; event.coord_system = "wgs84";
      if (coords.accuracy != null) event.accuracy_m = Math.min(coords.accuracy, 100000);
    }
    return fetch("/api/v1/attendance/events", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": d.csrf },
      body: JSON.stringify(event)
    }).then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.json();
    });
  }

  function verdict(kind, body) {
    var r = body.results[0];
    if (r.status === "accepted") return show("accepted", kind === "in" ? messages.accepted_in : messages.accepted_out);
    if (r.status === "duplicate") return show("duplicate", messages.duplicate);
    show("rejected", messages.rejected + " " + (messages.reasons[r.reason_code] || r.reason || r.reason_code));
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (busy) return;
    var kind = (ev.submitter && ev.submitter.value) || "in";
    busy = true;
    show("busy", messages.locating);
    locate().then(function (coords) {
      if (!d.token && !coords) { show("rejected", messages.rejected + " " + messages.reasons["geo-missing"]); return null; }
      show("busy", messages.sending);
      return send(kind, coords).then(function (body) { verdict(kind, body); });
    }).catch(function () { show("rejected", messages.failed); })
      .then(function () { busy = false; });
  });
})();
