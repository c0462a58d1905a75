// The audience and computed trait builders (engage/views/builder.py): a visual editor
// of the definition JSON the API takes, a Text tab with the query language, and the
// live preview the server answers (size, sample members, real-time or batch).
// The state is the definition itself; inputs change it in place, structural choices
// redraw the tree. The form posts the JSON in "definition" (or the text with editor=text).
(function () {
  "use strict";

  var dataNode = document.getElementById("builder-data");
  var form = document.getElementById("builder-form");
  if (!dataNode || !form) return;
  var data = JSON.parse(dataNode.textContent);
  var isAudience = data.kind === "audience";
  var def = data.definition;
  var tree = document.getElementById("builder-tree");
  var hidden = document.getElementById("id_definition");
  var textArea = document.getElementById("id_text");
  var editorInput = document.getElementById("id_editor");
  var lastText = textArea.value;
  var timer = null;
  var sequence = 0;

  var COUNT_CMPS = [["gte", "at least"], ["eq", "exactly"], ["lte", "at most"]];
  var PROPERTY_CMPS = [
    ["eq", "equals"], ["neq", "not equals"],
    ["lt", "less than"], ["gt", "greater than"],
    ["lte", "less than or equal to"], ["gte", "greater than or equal to"],
    ["in", "equals any of"], ["contains_any", "contains any of"],
    ["contains", "contains"], ["not_contains", "does not contain"],
    ["starts_with", "starts with"], ["ends_with", "ends with"],
    ["exists", "exists"], ["not_exists", "not exists"]
  ];
  var TIME_CMPS = [
    ["before_date", "before date"], ["after_date", "after date"],
    ["within_last", "within last"], ["within_next", "within next"],
    ["before_last", "before last"], ["after_next", "after next"]
  ];
  var TRAIT_CMPS = PROPERTY_CMPS.concat(TIME_CMPS);
  // Their value is a string whatever it looks like.
  var TEXT_ONLY = ["contains", "not_contains", "starts_with", "ends_with", "before_date", "after_date"];
  var UNITS = [["days", "days"], ["hours", "hours"]];
  var QUANTIFIERS = [["any", "Any user"], ["all", "All users"], ["none", "None of the users"]];

  // ---- small DOM helpers -------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function select(options, value, label, onChange) {
    var s = el("select", "form-select form-select-sm d-inline-block w-auto me-1");
    s.setAttribute("aria-label", label);
    options.forEach(function (o) {
      var opt = el("option", "", o[1]);
      opt.value = o[0];
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    s.addEventListener("change", function () { onChange(s.value); });
    return s;
  }
  function input(value, label, onInput, type) {
    var i = el("input", "form-control form-control-sm d-inline-block w-auto me-1");
    i.type = type || "text";
    if (type === "number") { i.min = "0"; i.classList.add("builder-number"); }
    i.value = value === undefined || value === null ? "" : value;
    i.setAttribute("aria-label", label);
    i.addEventListener("input", function () { onInput(i.value); changed(); });
    return i;
  }
  function button(text, label, onClick, cls) {
    var b = el("button", cls || "btn btn-sm btn-outline-secondary me-1 mb-1", text);
    b.type = "button";
    if (label) b.setAttribute("aria-label", label);
    b.addEventListener("click", function () { onClick(); redraw(); });
    return b;
  }
  function datalist(id, values) {
    if (document.getElementById(id)) return;
    var list = el("datalist");
    list.id = id;
    values.forEach(function (v) { var o = el("option"); o.value = v; list.appendChild(o); });
    document.body.appendChild(list);
  }
  datalist("builder-events", data.events || []);

  // ---- values -----------------------------------------------------------------
  // Typed values: 42, 2.5, true and false are numbers and booleans; anything else, or
  // anything in double quotes ("42"), is a string.
  function scalar(text) {
    var t = text.trim();
    if (t.length >= 2 && t.charAt(0) === '"' && t.charAt(t.length - 1) === '"') {
      try { return String(JSON.parse(t)); } catch (e) { return t.slice(1, -1); }
    }
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
    if (t === "true") return true;
    if (t === "false") return false;
    return text;
  }
  function typed(item) {
    // A string that would read back as a number or boolean is shown in quotes.
    return typeof item === "string" && scalar(item) !== item ? JSON.stringify(item) : String(item);
  }
  function shown(value, cmp) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(typed).join(", ");
    if (typeof value === "object") return JSON.stringify(value);
    if (TEXT_ONLY.indexOf(cmp) !== -1) return String(value);
    return typed(value);
  }
  function valueFor(cmp, text, old) {
    if (cmp === "exists" || cmp === "not_exists") return null;
    if (cmp === "in" || cmp === "contains_any") {
      return text.split(/[,\t\n]/).map(function (p) { return p.trim(); })
        .filter(function (p) { return p !== ""; }).map(scalar);
    }
    if (text.trim().charAt(0) === "{") {
      try { return JSON.parse(text); } catch (e) { return text; }
    }
    if (TEXT_ONLY.indexOf(cmp) !== -1) return text;
    if (["within_last", "within_next", "before_last", "after_next"].indexOf(cmp) !== -1) return old;
    return scalar(text);
  }
  function isDuration(cmp) {
    return ["within_last", "within_next", "before_last", "after_next"].indexOf(cmp) !== -1;
  }

  // A condition's comparison and value (property, context and trait conditions).
  function comparison(row, node, cmps) {
    row.appendChild(select(cmps, node.cmp, "Operator", function (v) {
      var before = node.cmp;
      node.cmp = v;
      if (isDuration(v)) node.value = isDuration(before) ? node.value : {value: 7, unit: "days"};
      else if (v === "exists" || v === "not_exists") node.value = null;
      else if (v === "in" || v === "contains_any") node.value = Array.isArray(node.value) ? node.value : [];
      else if (isDuration(before) || Array.isArray(node.value) || node.value === null) node.value = "";
      redraw();
    }));
    if (node.cmp === "exists" || node.cmp === "not_exists") return;
    if (isDuration(node.cmp)) {
      var d = node.value && typeof node.value === "object" ? node.value : {value: 7, unit: "days"};
      node.value = d;
      row.appendChild(input(d.value, "Duration", function (v) { d.value = parseInt(v, 10); }, "number"));
      row.appendChild(select(UNITS, d.unit, "Duration unit", function (v) { d.unit = v; changed(); }));
      return;
    }
    var hint = node.cmp === "in" || node.cmp === "contains_any" ? "a, b, c"
      : (node.cmp === "before_date" || node.cmp === "after_date" ? "2024-05-01T00:00:00Z" : "value");
    var box = input(shown(node.value, node.cmp), "Value", function (v) { node.value = valueFor(node.cmp, v, node.value); });
    box.placeholder = hint;
    row.appendChild(box);
  }

  // ---- where (property filters and funnel steps) --------------------------------
  function whereItems(where) {
    if (!where) return [];
    if (where.op === "and") return where.args;
    return [where];
  }
  function setWhere(owner, items) {
    owner.where = items.length === 0 ? null : (items.length === 1 ? items[0] : {op: "and", args: items});
  }
  function renderWhere(box, owner, path, allowSteps) {
    var items = whereItems(owner.where).slice();
    var wherePath = path + "/where";
    var list = el("div", "ms-3 mt-1");
    items.forEach(function (item, i) {
      var itemPath = items.length === 1 ? wherePath : wherePath + "/args/" + i;
      var remove = function () { items.splice(i, 1); setWhere(owner, items); };
      list.appendChild(renderWhereItem(item, itemPath, remove));
    });
    box.appendChild(list);
    var actions = el("div", "ms-3");
    actions.appendChild(button("+ property", "Add a property filter", function () {
      items.push({kind: "property", path: "", cmp: "eq", value: ""});
      setWhere(owner, items);
    }, "btn btn-sm btn-link p-0 me-2"));
    if (allowSteps) {
      actions.appendChild(button("+ and then did", "Add a following event", function () {
        items.push(childEvent());
        setWhere(owner, items);
      }, "btn btn-sm btn-link p-0 me-2"));
      actions.appendChild(button("+ and then did not", "Add a following event not done", function () {
        items.push({op: "not", arg: childEvent()});
        setWhere(owner, items);
      }, "btn btn-sm btn-link p-0 me-2"));
    }
    box.appendChild(actions);
  }
  function childEvent() {
    return {kind: "event", event: "", where: null,
      window: {type: "within", value: 1, unit: "days", relative_to: "parent"},
      count: {cmp: "gte", value: 1}};
  }
  function renderWhereItem(item, path, remove) {
    var row = el("div", "builder-where-item mb-1");
    row.dataset.path = path;
    if (item.kind === "property" || item.kind === "context") {
      row.classList.add("builder-property");
      row.appendChild(el("span", "small text-body-secondary me-1", "where"));
      row.appendChild(select([["property", "property"], ["context", "context"]], item.kind, "Property or context",
        function (v) { item.kind = v; changed(); }));
      row.appendChild(input(item.path, "Property path", function (v) { item.path = v; }));
      comparison(row, item, PROPERTY_CMPS);
    } else if (item.kind === "event" || (item.op === "not" && item.arg && item.arg.kind === "event")) {
      var negated = item.op === "not";
      var step = negated ? item.arg : item;
      row.classList.add("builder-step", "border-start", "ps-2");
      row.appendChild(el("span", "small fw-semibold me-1", negated ? "and then did not" : "and then did"));
      renderEventBody(row, step, negated ? path + "/arg" : path, true);
    } else {
      row.appendChild(el("code", "small me-1", JSON.stringify(item)));
      row.appendChild(el("span", "small text-body-secondary", "(edit in the Text tab)"));
    }
    row.appendChild(button("×", "Remove filter", remove, "btn btn-sm btn-outline-danger ms-1"));
    return row;
  }

  // ---- audience conditions ------------------------------------------------------
  function renderEventBody(row, node, path, isStep) {
    var name = input(node.event, "Event name", function (v) { node.event = v; });
    name.setAttribute("list", "builder-events");
    name.placeholder = "Event name";
    name.classList.add("builder-event-name");
    row.appendChild(name);
    if (!isStep) {
      row.appendChild(select(COUNT_CMPS, node.count.cmp, "How many times", function (v) { node.count.cmp = v; changed(); }));
      row.appendChild(input(node.count.value, "Times", function (v) { node.count.value = parseInt(v, 10); }, "number"));
      row.appendChild(el("span", "small me-1", "times"));
      var w = node.window;
      var kind = !w ? "all" : w.type;
      row.appendChild(select([["all", "over all history"], ["within", "within the last"], ["between", "in between"]],
        kind, "Time window", function (v) {
          if (v === "all") node.window = null;
          else if (v === "within") node.window = {type: "within", value: 30, unit: "days", relative_to: "now"};
          else node.window = {type: "between", start: {value: 30, unit: "days"}, end: {value: 90, unit: "days"}};
          redraw();
        }));
      if (w && w.type === "within") {
        row.appendChild(input(w.value, "Window length", function (v) { w.value = parseInt(v, 10); }, "number"));
        row.appendChild(select(UNITS, w.unit, "Window unit", function (v) { w.unit = v; changed(); }));
      } else if (w && w.type === "between") {
        row.appendChild(input(w.start.value, "Window start", function (v) { w.start.value = parseInt(v, 10); }, "number"));
        row.appendChild(select(UNITS, w.start.unit, "Window start unit", function (v) { w.start.unit = v; changed(); }));
        row.appendChild(el("span", "small me-1", "and"));
        row.appendChild(input(w.end.value, "Window end", function (v) { w.end.value = parseInt(v, 10); }, "number"));
        row.appendChild(select(UNITS, w.end.unit, "Window end unit", function (v) { w.end.unit = v; changed(); }));
        row.appendChild(el("span", "small me-1", "ago"));
      }
    } else {
      var sw = node.window;
      row.appendChild(el("span", "small me-1", "within"));
      row.appendChild(input(sw.value, "Step window", function (v) { sw.value = parseInt(v, 10); }, "number"));
      row.appendChild(select(UNITS, sw.unit, "Step window unit", function (v) { sw.unit = v; changed(); }));
      row.appendChild(el("span", "small me-1", "of doing so"));
    }
    renderWhere(row, node, path, true);
  }

  function isComputed(name) {
    return data.traits.some(function (t) { return t.key === name; });
  }

  function renderCondition(node, path) {
    var row = el("div", "builder-condition d-inline-block");
    if (node.kind === "event") {
      row.classList.add("builder-event");
      row.appendChild(el("span", "small fw-semibold me-1", "Performed"));
      renderEventBody(row, node, path, false);
    } else if (node.kind === "trait") {
      var computed = isComputed(node.trait);
      row.classList.add(computed ? "builder-computed-trait" : "builder-trait");
      if (computed) {
        row.appendChild(el("span", "small fw-semibold me-1", "Computed trait"));
        row.appendChild(select(data.traits.map(function (t) { return [t.key, t.name + " (" + t.key + ")"]; }),
          node.trait, "Computed trait", function (v) { node.trait = v; changed(); }));
        comparison(row, node, PROPERTY_CMPS);
      } else {
        row.appendChild(el("span", "small fw-semibold me-1", "Custom trait"));
        var name = input(node.trait, "Trait name", function (v) { node.trait = v; });
        name.placeholder = "trait";
        name.classList.add("builder-trait-name");
        row.appendChild(name);
        comparison(row, node, TRAIT_CMPS);
      }
    } else if (node.kind === "audience") {
      row.classList.add("builder-audience");
      row.appendChild(select([["true", "Part of audience"], ["false", "Not part of audience"]], String(node.member),
        "Membership", function (v) { node.member = v === "true"; changed(); }));
      var options = data.audiences.map(function (a) { return [a.key, a.name + " (" + a.key + ")"]; });
      if (!data.audiences.some(function (a) { return a.key === node.audience_key; })) {
        options.unshift([node.audience_key, node.audience_key || "choose an audience"]);
      }
      row.appendChild(select(options, node.audience_key, "Audience", function (v) { node.audience_key = v; changed(); }));
    } else {
      row.appendChild(el("code", "small", JSON.stringify(node)));
    }
    return row;
  }

  function newCondition(kind) {
    if (kind === "event") return {kind: "event", event: "", where: null, window: null, count: {cmp: "gte", value: 1}};
    if (kind === "trait") return {kind: "trait", trait: "", cmp: "eq", value: ""};
    if (kind === "computed") return {kind: "trait", trait: data.traits.length ? data.traits[0].key : "", cmp: "exists", value: null};
    if (kind === "audience") return {kind: "audience", audience_key: data.audiences.length ? data.audiences[0].key : "", member: true};
    return {op: "and", args: []};
  }

  // A group's arguments: each may be negated ("not who") or, in an accounts audience,
  // be about the account's users (Any/All/None).
  function renderNode(node, path, quantified) {
    if (node.op === "and" || node.op === "or") return renderGroup(node, path, quantified);
    return renderCondition(node, path);
  }

  function renderGroup(group, path, quantified) {
    var box = el("div", "builder-group border rounded p-2 mb-2");
    box.dataset.path = path;
    var head = el("div", "mb-2");
    head.appendChild(el("span", "small me-1", "Match"));
    head.appendChild(select([["and", "all (and)"], ["or", "any (or)"]], group.op, "Group match",
      function (v) { group.op = v; changed(); }));
    head.appendChild(el("span", "small", "of these conditions"));
    box.appendChild(head);
    group.args.forEach(function (arg, i) {
      var argPath = path + "/args/" + i;
      var item = el("div", "builder-item d-flex align-items-start gap-1 mb-2");
      item.dataset.path = argPath;
      var negated = arg.op === "not";
      var inner = negated ? arg.arg : arg;
      var innerPath = negated ? argPath + "/arg" : argPath;
      item.appendChild(select([["who", "who"], ["not", "and not who"]], negated ? "not" : "who", "Include or exclude",
        function (v) {
          group.args[i] = v === "not" ? {op: "not", arg: inner} : inner;
          redraw();
        }));
      var body = el("div", "flex-grow-1");
      body.dataset.path = innerPath;
      if (["any", "all", "none"].indexOf(inner.op) !== -1) {
        var q = inner;
        body.appendChild(select(QUANTIFIERS, q.op, "Which users", function (v) { q.op = v; changed(); }));
        var qBody = el("div", "ms-3");
        qBody.dataset.path = innerPath + "/arg";
        qBody.appendChild(renderNode(q.arg, innerPath + "/arg", true));
        body.appendChild(qBody);
      } else {
        body.appendChild(renderNode(inner, innerPath, quantified));
      }
      item.appendChild(body);
      item.appendChild(button("×", "Remove condition", function () { group.args.splice(i, 1); },
        "btn btn-sm btn-outline-danger"));
      box.appendChild(item);
    });
    var add = el("div", "builder-add");
    var accounts = def.type === "accounts" && !quantified;
    var wrap = function (node) { return accounts && node.kind === "event" ? {op: "any", arg: node} : node; };
    add.appendChild(button("+ Performed an event", "Add an event condition", function () { group.args.push(wrap(newCondition("event"))); }));
    add.appendChild(button("+ Custom trait", "Add a custom trait condition", function () { group.args.push(newCondition("trait")); }));
    if (data.traits.length) add.appendChild(button("+ Computed trait", "Add a computed trait condition", function () { group.args.push(newCondition("computed")); }));
    if (data.audiences.length) add.appendChild(button("+ Part of an audience", "Add an audience condition", function () { group.args.push(newCondition("audience")); }));
    if (accounts) add.appendChild(button("+ Users of the account", "Add a condition on the account's users", function () { group.args.push({op: "any", arg: newCondition("event")}); }));
    add.appendChild(button("+ Group", "Add a group", function () { group.args.push(newCondition("group")); }));
    box.appendChild(add);
    return box;
  }

  // ---- computed trait ---------------------------------------------------------
  var TRAIT_KINDS = [["event_counter", "Event Counter"], ["aggregation", "Aggregation"], ["most_frequent", "Most Frequent"],
    ["first", "First"], ["last", "Last"], ["unique_list", "Unique List"], ["unique_list_count", "Unique List Count"]];

  function renderTrait() {
    var box = el("div", "builder-trait-definition");
    box.dataset.path = "";
    var row = el("div", "mb-2");
    row.appendChild(el("label", "small me-1", "Type"));
    row.appendChild(select(TRAIT_KINDS, def.kind, "Trait type", function (v) {
      def.kind = v;
      if (v === "event_counter") delete def.property; else if (def.property === undefined) def.property = "";
      if (v === "aggregation") def.aggregation = def.aggregation || "sum"; else delete def.aggregation;
      if (v !== "most_frequent") delete def.min_frequency;
      redraw();
    }));
    if (def.kind === "aggregation") {
      row.appendChild(select([["sum", "sum"], ["avg", "average"], ["min", "minimum"], ["max", "maximum"]], def.aggregation,
        "Aggregation", function (v) { def.aggregation = v; changed(); }));
    }
    if (def.kind !== "event_counter") {
      row.appendChild(el("span", "small me-1", "of property"));
      var p = input(def.property, "Property", function (v) { def.property = v; });
      p.placeholder = "property";
      p.dataset.path = "/property";
      row.appendChild(p);
    }
    if (def.kind === "most_frequent") {
      row.appendChild(el("span", "small me-1", "seen at least"));
      row.appendChild(input(def.min_frequency || 2, "Minimum frequency", function (v) { def.min_frequency = parseInt(v, 10); }, "number"));
      row.appendChild(el("span", "small me-1", "times"));
    }
    box.appendChild(row);
    var ev = el("div", "mb-2");
    ev.dataset.path = "/event";
    ev.appendChild(el("span", "small me-1", "of event"));
    var name = input(def.event, "Event name", function (v) { def.event = v; });
    name.setAttribute("list", "builder-events");
    name.placeholder = "Event name";
    name.classList.add("builder-event-name");
    ev.appendChild(name);
    var w = def.window;
    ev.appendChild(select([["all", "over all history"], ["within", "within the last"]], w ? "within" : "all", "Lookback window",
      function (v) { def.window = v === "all" ? null : {type: "within", value: 90, unit: "days", relative_to: "now"}; redraw(); }));
    if (w) {
      ev.appendChild(input(w.value, "Window length", function (v) { w.value = parseInt(v, 10); }, "number"));
      ev.appendChild(select(UNITS, w.unit, "Window unit", function (v) { w.unit = v; changed(); }));
    }
    renderWhere(ev, def, "", false);
    box.appendChild(ev);
    return box;
  }

  // ---- drawing, errors, preview ------------------------------------------------------
  function redraw() {
    tree.textContent = "";
    if (isAudience) {
      if (!def.root || (def.root.op !== "and" && def.root.op !== "or")) {
        def.root = {op: "and", args: def.root ? [def.root] : []};
        autoWrapped = true;
      }
      tree.appendChild(renderGroup(def.root, "/root", false));
    } else {
      tree.appendChild(renderTrait());
    }
    markErrors(data.errors || []);
    changed();
  }

  // A single condition saves as itself, not as an "and" of one (unless a stored
  // definition said "and" of one: editing saves what was there).
  var autoWrapped = false;
  function stored() {
    if (!isAudience) return def;
    var copy = JSON.parse(JSON.stringify(def));
    var single = copy.root && copy.root.op === "and" && copy.root.args && copy.root.args.length === 1;
    if (single && (autoWrapped || !data.editing)) {
      copy.root = copy.root.args[0];
    }
    return copy;
  }

  function changed() {
    hidden.value = JSON.stringify(stored());
    schedule();
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(preview, 400);
  }

  function markErrors(errors) {
    tree.querySelectorAll(".builder-error").forEach(function (n) { n.remove(); });
    errors.forEach(function (e) {
      var best = null;
      tree.querySelectorAll("[data-path]").forEach(function (n) {
        var p = n.dataset.path;
        if ((e.path === p || e.path.indexOf(p + "/") === 0 || p === "") && (!best || p.length >= best.dataset.path.length)) best = n;
      });
      var note = el("div", "builder-error invalid-feedback d-block", (e.path ? e.path + ": " : "") + e.message);
      (best || tree).appendChild(note);
    });
  }

  function showErrors(errors) {
    var list = document.getElementById("definition-errors");
    list.textContent = "";
    errors.forEach(function (e) {
      var item = el("li", "text-danger");
      if (e.path) item.appendChild(el("code", "me-1", "definition" + e.path));
      item.appendChild(document.createTextNode(e.message));
      list.appendChild(item);
    });
    list.classList.toggle("d-none", errors.length === 0);
    markErrors(errors);
  }

  function flags() {
    var f = JSON.parse(JSON.stringify(stored()));
    return f;
  }

  function preview() {
    var body = {key: data.key || ""};
    if (editorInput.value === "text") {
      body.text = textArea.value;
      body.definition = flags();
    } else {
      body.definition = stored();
    }
    var mine = ++sequence;
    var status = document.getElementById("preview-status");
    status.textContent = "Calculating…";
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) { return {ok: response.ok, answer: answer}; });
    }).then(function (result) {
      if (mine !== sequence) return;  // a newer preview is on its way
      showPreview(result.ok, result.answer);
    }).catch(function () {
      if (mine === sequence) status.textContent = "The preview could not be reached.";
    });
  }

  function showPreview(ok, answer) {
    var status = document.getElementById("preview-status");
    var size = document.getElementById("preview-size");
    var sample = document.getElementById("preview-sample");
    var mode = document.getElementById("builder-mode");
    var reasons = document.getElementById("batch-reasons");
    var distribution = document.getElementById("preview-distribution");
    sample.textContent = "";
    reasons.textContent = "";
    if (distribution) distribution.textContent = "";
    if (!ok) {
      if (answer.text && editorInput.value !== "text") lastText = answer.text;
      status.textContent = "Fix the definition to see the preview.";
      size.textContent = "–";
      mode.textContent = "";
      showErrors(answer.errors || []);
      return;
    }
    data.errors = [];
    showErrors([]);
    status.textContent = "";
    size.textContent = String(answer.size);
    if (answer.text) lastText = answer.text;
    if (editorInput.value === "text" && answer.definition) pendingFromText = answer.definition;
    mode.textContent = answer.compute_mode === "realtime" ? "⚡ Realtime Enabled" : "Batch";
    mode.className = "badge " + (answer.compute_mode === "realtime" ? "text-bg-success" : "text-bg-secondary");
    (answer.batch_reasons || []).forEach(function (r) { reasons.appendChild(el("li", "", r.message)); });
    answer.sample.forEach(function (m) {
      var li = el("li");
      var a = el("a", "font-monospace", m.segment_id);
      a.href = m.url;
      li.appendChild(a);
      sample.appendChild(li);
    });
    if (distribution && answer.distribution) {
      answer.distribution.forEach(function (d) {
        var tr = el("tr");
        tr.appendChild(el("td", "font-monospace", typeof d.value === "string" ? d.value : JSON.stringify(d.value)));
        tr.appendChild(el("td", "text-end", String(d.count)));
        distribution.appendChild(tr);
      });
    }
  }

  // ---- tabs, flags, name ----------------------------------------------------------
  var pendingFromText = null;
  function showTab(which) {
    editorInput.value = which;
    document.getElementById("builder-pane").classList.toggle("d-none", which !== "builder");
    document.getElementById("text-pane").classList.toggle("d-none", which !== "text");
    document.querySelectorAll("[data-builder-tab]").forEach(function (b) {
      b.classList.toggle("active", b.dataset.builderTab === which);
      b.setAttribute("aria-selected", String(b.dataset.builderTab === which));
    });
  }
  document.querySelectorAll("[data-builder-tab]").forEach(function (b) {
    b.addEventListener("click", function () {
      var which = b.dataset.builderTab;
      if (which === editorInput.value) return;
      if (which === "text") {
        textArea.value = lastText;
        showTab("text");
        schedule();
      } else {
        if (textDirty && !pendingFromText) {
          // The text has errors (or its check is on its way): keep it rather than lose it.
          showErrors([{path: "", message: "Fix the text (or wait for its check) before going back to the builder."}]);
          return;
        }
        if (pendingFromText) def = pendingFromText;
        pendingFromText = null;
        textDirty = false;
        showTab("builder");
        redraw();
      }
    });
  });
  var textDirty = false;
  textArea.addEventListener("input", function () { pendingFromText = null; textDirty = true; schedule(); });

  function flag(id, apply) {
    var box = document.getElementById(id);
    if (box) box.addEventListener("change", function () { apply(box); changed(); });
  }
  flag("id_include_anonymous", function (b) { def.include_anonymous = b.checked; });
  flag("id_include_historical", function (b) { def.include_historical = b.checked; });
  flag("id_type", function (b) { def.type = b.value; redraw(); });

  // The key is the snake-cased name (engage/definitions/keys.py), fixed once created.
  var nameInput = document.getElementById("id_display_name");
  var keyInput = document.getElementById("id_key");
  function snake(name) {
    var ascii = name.normalize("NFKD").replace(/[^\x00-\x7f]/g, "");
    var words = [];
    ascii.split(/[^A-Za-z0-9]+/).forEach(function (part) {
      part.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z])([A-Z][a-z])/g, "$1 $2").split(" ").forEach(function (w) {
        if (w) words.push(w);
      });
    });
    return words.join("_").toLowerCase();
  }
  if (nameInput && keyInput && !data.editing) {
    nameInput.addEventListener("input", function () { keyInput.value = snake(nameInput.value); });
    keyInput.value = snake(nameInput.value);
  }

  form.addEventListener("submit", function () {
    if (editorInput.value !== "text") hidden.value = JSON.stringify(stored());
  });

  showTab(editorInput.value === "text" ? "text" : "builder");
  redraw();
})();
