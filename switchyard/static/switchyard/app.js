// Behaviour every page shares, as a static file: the Content-Security-Policy
// (script-src 'self') runs no inline script or on* handler attribute.
(function () {
  "use strict";

  // <form data-confirm="Delete X?">: ask before submitting; a "no" stops the submit.
  // Capture phase, so the question comes before any other submit listener (htmx's).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
