// Destination pages: catalog search, the trigger builder rows, the mapping path picker.
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
    var builder = from.closest("#trigger-builder .card-body") || document.querySelector("#trigger-builder .card-body");
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
    // Picking a path fills the field's JSON with {"@path": ...}.
    if (target.matches("[data-path-for]") && target.value) {
      var field = document.getElementById(target.dataset.pathFor);
      if (field) {
        field.value = "{\"@path\": " + JSON.stringify(target.value) + "}";
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
      target.value = "";
    }
  });
})();
