// Live updates for the console's pages: the server says that something changed (server-sent
// events from /console/live, or the same answer polled where EventSource is missing), and the
// page fetches itself again and swaps in its live regions ([data-live-region]: the inbox list,
// a case's thread and audit trail, the dashboard). Forms are never inside a region, so nothing
// an officer is typing is lost. No build step: plain ES2017.
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.live;
  if (!url || !window.fetch || !window.DOMParser) { return; }
  var mine = body.dataset.case || null;
  var notice = document.getElementById("live-notice");
  var busy = false;
  var again = false;
  var hideTimer = null;

  function say(text) {
    if (!notice) { return; }
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(function () { notice.hidden = true; }, 4000);
  }

  function concerns(change) {
    // A case page refreshes for its own case; lists refresh for any change.
    if (!mine) { return true; }
    return (change.cases || []).indexOf(mine) >= 0;
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      var answer = await fetch(location.href, { credentials: "same-origin", headers: { "X-Console-Live": "1" } });
      if (!answer.ok) { return; }
      var fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      var changed = false;
      document.querySelectorAll("[data-live-region]").forEach(function (region) {
        var next = fresh.getElementById(region.id);
        if (next && next.innerHTML !== region.innerHTML) {
          region.innerHTML = next.innerHTML;
          changed = true;
        }
      });
      if (changed) {
        body.dataset.liveUpdated = String(Date.now());
        say(notice.dataset.new);
      }
    } catch (e) {
      // the next change tries again
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function handle(data) {
    var change;
    try { change = JSON.parse(data); } catch (e) { return; }
    if (concerns(change)) { refresh(); }
  }

  if (window.EventSource) {
    var source = new EventSource(url);
    source.addEventListener("change", function (event) { handle(event.data); });
    source.addEventListener("ready", function () { body.dataset.liveReady = "1"; });
    return;
  }
  // polling: the same answers as JSON, every few seconds
  var cursor = "";
  async function poll() {
    try {
      var answer = await fetch(url + "?format=json&cursor=" + encodeURIComponent(cursor), { credentials: "same-origin" });
      if (answer.status === 401 || answer.status === 403) { say(notice.dataset.offline); return; }
      if (answer.ok) {
        var change = await answer.json();
        if (cursor && (change.cases || []).length) { handle(JSON.stringify(change)); }
        cursor = change.cursor || cursor;
      }
    } catch (e) {
      // try again at the next tick
    }
    setTimeout(poll, 5000);
  }
  poll();
})();
