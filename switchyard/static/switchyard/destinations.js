// Destination pages: catalog search, the condition builder rows, an object field's key/value rows.
(function () {
  "use strict";

  // Filter a list as the user types (the server filters too, for ?q= without JS): every
  // word must appear, as connections/catalog/search.py matches.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-filter-list]")) return;
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll(input.dataset.filterList + " [data-search]").forEach(function (item) {
      var text = item.dataset.search;
      item.classList.toggle("d-none", !words.every(function (word) { return text.indexOf(word) !== -1; }));
    });
  });

  function builderChanged(from) {
    var builder = from.closest("[data-condition-builder]") || document.querySelector("[data-condition-builder]");
    if (builder && window.htmx) window.htmx.trigger(builder, "conditions-changed");
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    var add = target.closest("[data-add-condition]");
    if (add) {
      var template = document.getElementById("condition-template");
      document.getElementById("conditions").appendChild(template.content.cloneNode(true));
      return;
    }
    var remove = target.closest("[data-remove-condition]");
    if (remove) {
      var row = remove.closest(".trigger-condition");
      var container = document.getElementById("conditions");
      row.remove();
      if (container && !container.querySelector(".trigger-condition")) {
        var tpl = document.getElementById("condition-template");
        container.appendChild(tpl.content.cloneNode(true));
      }
      builderChanged(container || document.body);
      return;
    }
    // An object field's key/value rows (without JS the row always has one blank row).
    var addPair = target.closest("[data-add-pair]");
    if (addPair) {
      var key = addPair.dataset.addPair;
      var rows = document.querySelector('[data-pairs="' + key + '"]');
      var pairTemplate = document.getElementById("pair-template-" + key);
      if (rows && pairTemplate) {
        rows.appendChild(pairTemplate.content.cloneNode(true));
        var inputs = rows.querySelectorAll(".kv-row input");
        if (inputs.length > 1) inputs[inputs.length - 2].focus();
      }
      return;
    }
    var removePair = target.closest("[data-remove-pair]");
    if (removePair) {
      var pair = removePair.closest(".kv-row");
      var list = pair.parentElement;
      pair.remove();
      if (list && !list.querySelector(".kv-row")) {
        var blank = document.getElementById("pair-template-" + list.dataset.pairs);
        if (blank) list.appendChild(blank.content.cloneNode(true));
      }
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) return;
    // "Event property" rows need a path.
    if (target.matches("[data-condition-field]")) {
      var path = target.closest(".trigger-condition").querySelector("[data-condition-path]");
      if (path) path.classList.toggle("d-none", target.value !== "property");
    }
  });
})();
