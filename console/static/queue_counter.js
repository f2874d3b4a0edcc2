// A counter page stays current when another officer or the terminal calls: it polls the display's
// feed and reloads when this counter's calls or line changed (it has no field to lose).
(function () {
  "use strict";
  var box = document.getElementById("queue-counter");
  if (!box || !window.fetch) { return; }
  var key = box.dataset.counter;
  var last = null;
  async function poll() {
    try {
      var answer = await fetch("/console/queue/display.json", { cache: "no-store" });
      var data = await answer.json();
      var mine = data.counters.filter(function (c) { return c.key === key; })[0];
      if (mine) {
        var now = mine.sequence + ":" + mine.waiting + ":" + (mine.current || "");
        if (last !== null && now !== last) { location.reload(); return; }
        last = now;
      }
    } catch (error) { /* the page still works; try again */ }
    setTimeout(poll, 3000);
  }
  poll();
})();
