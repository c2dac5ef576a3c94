(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("board-config").textContent);
  var table = document.getElementById("board");
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var filter = document.getElementById("filter");
  var baselines = document.getElementById("baselines");
  var shown = document.getElementById("shown");
  var state = { sort: config.default_sort, dir: null, q: "", baselines: true };

  function head(key) {
    for (var i = 0; i < heads.length; i++) { if (heads[i].getAttribute("data-key") === key) { return i; } }
    return -1;
  }

  function compare(a, b, numeric) {
    if (numeric) { return parseFloat(a) - parseFloat(b); }
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function sortRows() {
    var index = head(state.sort);
    if (index < 0) { index = head(config.default_sort); state.sort = config.default_sort; }
    if (index < 0) { return; }
    var th = heads[index];
    var dir = state.dir === "asc" || state.dir === "desc" ? state.dir : th.getAttribute("data-dir");
    state.dir = dir;
    var numeric = th.getAttribute("data-type") === "num";
    var rows = Array.prototype.slice.call(body.rows).map(function (row, order) {
      return { row: row, value: row.cells[index].getAttribute("data-sort") || "", order: order };
    });
    rows.sort(function (x, y) {
      var xe = x.value === "", ye = y.value === "";
      if (xe || ye) { return xe === ye ? x.order - y.order : (xe ? 1 : -1); }  // empty cells always last
      var c = compare(x.value, y.value, numeric);
      if (c === 0) { return x.order - y.order; }
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    heads.forEach(function (cell, i) {
      if (i === index) { cell.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending"); }
      else { cell.removeAttribute("aria-sort"); }
    });
    document.body.setAttribute("data-sorted", state.sort + ":" + dir);
  }

  function filterRows() {
    var q = state.q.toLowerCase().trim();
    var count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var hit = (!q || (row.getAttribute("data-search") || "").indexOf(q) >= 0) &&
        (state.baselines || !row.classList.contains("baseline"));
      row.hidden = !hit;
      if (hit) { count++; }
    });
    shown.textContent = String(count);
    document.body.setAttribute("data-filtered", String(count));
  }

  function writeHash() {
    var params = new URLSearchParams();
    params.set("sort", state.sort);
    params.set("dir", state.dir);
    if (state.q) { params.set("q", state.q); }
    if (!state.baselines) { params.set("baselines", "0"); }
    try { history.replaceState(null, "", "#" + params.toString()); } catch (err) { /* some file:// setups */ }
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    state.sort = params.get("sort") || config.default_sort;
    state.dir = params.get("dir");
    state.q = params.get("q") || "";
    state.baselines = params.get("baselines") !== "0";
    filter.value = state.q;
    baselines.checked = state.baselines;
  }

  function apply() { sortRows(); filterRows(); }

  heads.forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      state.dir = key === state.sort ? (state.dir === "asc" ? "desc" : "asc") : th.getAttribute("data-dir");
      state.sort = key;
      apply();
      writeHash();
    });
  });
  filter.addEventListener("input", function () { state.q = filter.value; filterRows(); writeHash(); });
  baselines.addEventListener("change", function () { state.baselines = baselines.checked; filterRows(); writeHash(); });
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  readHash();
  apply();
})();
