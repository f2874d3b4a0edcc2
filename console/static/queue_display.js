// The waiting room's display: polls the queue feed every second, shows each counter's number and
// the next ones, and speaks each new call in Indonesian ("Nomor antrian A dua belas, silakan ke
// Loket Pengaduan") with the browser's speech synthesis. Calls made before the page opened are
// shown, not spoken. Browsers speak only after a first click on the page: the "sound" button.
(function () {
  "use strict";
  var feed = document.body.dataset.feed;
  var seen = null; // counter key -> the last call sequence announced
  var offline = document.getElementById("offline");
  var announced = document.getElementById("announced");

  function voice() {
    if (!window.speechSynthesis) { return null; }
    var voices = window.speechSynthesis.getVoices() || [];
    for (var i = 0; i < voices.length; i++) {
      if ((voices[i].lang || "").toLowerCase().indexOf("id") === 0) { return voices[i]; }
    }
    return null;
  }

  function speak(text, record) {
    if (record !== false) {
      announced.textContent = text;
      announced.dataset.count = String(Number(announced.dataset.count || "0") + 1);
    }
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) { return; }
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "id-ID";
    utterance.rate = 0.9;
    var chosen = voice();
    if (chosen) { utterance.voice = chosen; }
    window.speechSynthesis.speak(utterance);
  }

  function show(data) {
    var first = seen === null;
    if (first) { seen = {}; }
    data.counters.forEach(function (counter) {
      var box = document.querySelector('[data-counter="' + counter.key + '"]');
      if (!box) { return; }
      box.querySelector('[data-role="current"]').textContent = counter.current || "—";
      box.querySelector('[data-role="next"]').textContent = counter.next.length ? counter.next.join("  ") : "—";
      var count = box.querySelector('[data-role="waiting"]');
      count.textContent = count.dataset.template.replace("{n}", String(counter.waiting));
      var before = seen[counter.key];
      if (!first && counter.announcement && before !== undefined && counter.sequence > before) {
        box.classList.add("called");
        setTimeout(function () { box.classList.remove("called"); }, 3000);
        speak(counter.announcement);
      }
      seen[counter.key] = counter.sequence;
    });
  }

  async function poll() {
    try {
      var answer = await fetch(feed, { cache: "no-store" });
      if (!answer.ok) { throw new Error(String(answer.status)); }
      show(await answer.json());
      offline.hidden = true;
    } catch (error) {
      offline.hidden = false;
    }
    setTimeout(poll, 1000);
  }

  document.getElementById("sound").addEventListener("click", function (event) {
    speak(announced.textContent || "Tes suara", false);
    event.target.hidden = true;
  });
  poll();
})();
