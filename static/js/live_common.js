// What the host screen and the players' phones share (static/js/live_host.js, live_player.js): the
// choice shapes, message templates, and a countdown that follows the server's clock, not the phone's.
window.Live = (function () {
  "use strict";
  return {
    SHAPES: ["▲", "◆", "●", "■", "★", "⬢"],

    fmt: function (template, values) {
      return template.replace(/\{(\w+)\}/g, function (_m, name) { return String(values[name]); });
    },

    // The server's deadline with the offset between its clock and ours, from one of its messages.
    clock: function (deadline, serverTime) {
      return { deadline: deadline, offset: serverTime - Date.now() };
    },

    // Shows the seconds left in ``element`` until the clock's deadline, then calls ``onEnd`` once.
    // Returns a function that stops it.
    countdown: function (clock, element, onEnd) {
      var ticker = null;
      var tick = function () {
        var left = clock.deadline - (Date.now() + clock.offset);
        element.textContent = String(Math.max(0, Math.ceil(left / 1000)));
        element.classList.toggle("low", left <= 5000);
        if (left <= 0 && ticker) {
          clearInterval(ticker);
          ticker = null;
          if (onEnd) onEnd();
        }
      };
      ticker = setInterval(tick, 250);
      tick();
      return function () { if (ticker) clearInterval(ticker); ticker = null; };
    },
  };
})();
