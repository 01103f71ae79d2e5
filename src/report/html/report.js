// breakout's HTML report: expanding rows, filters (kept in the address's #fragment,
// so a filtered view can be bookmarked or sent), sortable columns. No network, no
// library; every value read from the page is text (textContent, dataset).
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var table = document.getElementById("findings-table");
  var rows = table ? Array.prototype.slice.call(table.tBodies) : [];
  var all = Array.prototype.slice.call(document.querySelectorAll("tbody.finding"));

  function setOpen(body, open) {
    body.classList.toggle("open", open);
    var b = body.querySelector(".toggle");
    if (b) b.setAttribute("aria-expanded", open ? "true" : "false");
  }
  all.forEach(function (body) {
    var b = body.querySelector(".toggle");
    if (b) b.addEventListener("click", function () { setOpen(body, !body.classList.contains("open")); });
  });
  // Following a link to a finding (from an escape path) opens it.
  function openTarget() {
    var id = location.hash.slice(1);
    if (/^f\d+$/.test(id)) {
      var body = document.getElementById(id);
      if (body) { body.hidden = false; setOpen(body, true); }
    }
  }
  window.addEventListener("hashchange", openTarget);

  if (!table) { openTarget(); return; }

  var form = document.getElementById("filters");
  var sev = Array.prototype.slice.call(form.querySelectorAll("input[name=sev]"));
  var rule = document.getElementById("f-rule");
  var family = document.getElementById("f-family");
  var file = document.getElementById("f-file");
  var text = document.getElementById("f-text");
  var count = document.getElementById("f-count");
  var expand = document.getElementById("f-expand");

  function apply() {
    var wanted = {};
    sev.forEach(function (c) { wanted[c.value] = c.checked; });
    var q = text.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (body) {
      var d = body.dataset;
      var ok = wanted[d.severity] !== false &&
        (!rule.value || d.rule === rule.value) &&
        (!family.value || d.family === family.value) &&
        (!file.value || d.file === file.value) &&
        q.every(function (w) { return d.text.indexOf(w) !== -1; });
      body.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }

  // The filters as `#sev=critical,high&rule=BRK201&family=…&file=…&q=…`.
  function save() {
    var parts = [];
    var off = sev.filter(function (c) { return !c.checked; });
    if (off.length) {
      parts.push("sev=" + sev.filter(function (c) { return c.checked; })
        .map(function (c) { return c.value; }).join(","));
    }
    [["rule", rule], ["family", family], ["file", file]].forEach(function (p) {
      if (p[1].value) parts.push(p[0] + "=" + encodeURIComponent(p[1].value));
    });
    if (text.value.trim()) parts.push("q=" + encodeURIComponent(text.value.trim()));
    var hash = parts.length ? "#" + parts.join("&") : "";
    try {
      history.replaceState(null, "", hash || location.pathname + location.search);
    } catch (e) { /* some viewers refuse: the filters still work */ }
  }
  function load() {
    var h = location.hash.slice(1);
    if (!h || /^f\d+$/.test(h) || h.indexOf("=") === -1) return;
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i < 0) return;
      var k = kv.slice(0, i);
      var v;
      try { v = decodeURIComponent(kv.slice(i + 1)); } catch (e) { return; }
      if (k === "sev") {
        var on = v.split(",");
        sev.forEach(function (c) { c.checked = on.indexOf(c.value) !== -1; });
      } else if (k === "rule" || k === "family" || k === "file") {
        var sel = { rule: rule, family: family, file: file }[k];
        var exists = Array.prototype.some.call(sel.options, function (o) { return o.value === v; });
        if (exists) sel.value = v;
      } else if (k === "q") {
        text.value = v;
      }
    });
  }
  function changed() { apply(); save(); }
  form.addEventListener("change", changed);
  text.addEventListener("input", changed);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("f-reset").addEventListener("click", function () {
    sev.forEach(function (c) { c.checked = true; });
    rule.value = family.value = file.value = text.value = "";
    changed();
  });
  expand.addEventListener("click", function () {
    var open = expand.textContent === "Expand all";
    rows.forEach(function (body) { if (!body.hidden) setOpen(body, open); });
    expand.textContent = open ? "Collapse all" : "Expand all";
  });

  // Sorting: by severity rank, rule, resource, location (file, then line as a number)
  // or message; a second click reverses.
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  function key(body, by) {
    var d = body.dataset;
    if (by === "rank") return [Number(d.rank)];
    if (by === "location") return [d.file, Number(d.line)];
    return [d[by] || ""];
  }
  function compare(a, b) {
    for (var i = 0; i < a.length; i++) {
      var c = typeof a[i] === "number" ? a[i] - b[i] : collator.compare(a[i], b[i]);
      if (c) return c;
    }
    return 0;
  }
  var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-sort]"));
  heads.forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var by = th.dataset.sort;
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      // Severity reads best most severe first.
      if (th.getAttribute("aria-sort") === "none" && by === "rank") dir = -1;
      heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      var order = rows.map(function (body, i) { return { body: body, k: key(body, by), i: i }; });
      order.sort(function (x, y) { return dir * compare(x.k, y.k) || x.i - y.i; });
      order.forEach(function (o) { table.appendChild(o.body); });
      rows = order.map(function (o) { return o.body; });
    });
  });

  // Printing shows every row and every detail (the print style sheet), and the
  // contents of closed <details>.
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
  });

  load();
  apply();
  openTarget();
})();
