// The source debugger's live list (#events polls every 2s with htmx). Done here, not
// in hx-trigger filters or hx-vals "js:", which htmx evaluates as code: the
// Content-Security-Policy allows no 'unsafe-eval'.
(function () {
  "use strict";

  document.addEventListener("htmx:configRequest", function (event) {
    var events = event.target;
    if (!(events instanceof Element) || events.id !== "events") return;
    var pause = document.getElementById("pause");
    if (pause && pause.checked) {
      event.preventDefault(); // paused: skip this poll
      return;
    }
    // Only rows newer than the newest one shown.
    var newest = events.querySelector("[data-id]");
    event.detail.parameters.after = newest ? newest.dataset.id : "0";
  });
})();
