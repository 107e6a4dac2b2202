/* zhsearch research views: as the search page updates its results while the user types
 * (static/search.js, which sends a "zhsearch:query" event), keep the export links beside the
 * total in step and swap in the server's timeline block for the new query (GET /research,
 * the same markup the page is rendered with). Without JavaScript the page has both already.
 */
(function () {
  "use strict";

  var research = document.getElementById("research");
  var results = document.getElementById("results");
  var exportsNode = document.getElementById("exports");
  if (!research || !results) return;

  var DEBOUNCE_MS = 250;
  var initial = new URLSearchParams(location.search);
  var chartParams = ["chart", "interval", "vs"].filter(function (k) { return initial.get(k); })
    .map(function (k) { return "&" + k + "=" + encPlus(initial.get(k)); }).join("");

  // the same encoding as search/page.py and static/search.js (urllib.parse.quote_plus)
  function enc(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }
  function encPlus(s) { return enc(s).replace(/%20/g, "+"); }
  function viewParams() {
    var now = new URLSearchParams(location.search), out = "";
    ["sort", "group"].forEach(function (k) { if (now.get(k)) out += "&" + k + "=" + encPlus(now.get(k)); });
    return out;
  }

  function showExports() {
    if (exportsNode) exportsNode.hidden = results.getAttribute("data-state") !== "results";
  }
  new MutationObserver(showExports).observe(results, { attributes: true, attributeFilter: ["data-state"] });

  function setExports(q) {
    if (!exportsNode) return;
    var sort = new URLSearchParams(location.search).get("sort");
    Array.prototype.forEach.call(exportsNode.querySelectorAll("a"), function (a) {
      var fmt = a.classList.contains("export-jsonl") ? "jsonl" : "csv";
      a.setAttribute("href", "/api/export?q=" + encPlus(q) + "&format=" + fmt + (sort ? "&sort=" + sort : ""));
    });
  }

  var timer = null, controller = null, seq = 0;
  function refresh(q) {
    var mine = ++seq;
    if (controller) controller.abort();
    controller = typeof AbortController === "function" ? new AbortController() : null;
    if (!q) {
      research.textContent = "";
      return;
    }
    fetch("/research?q=" + encPlus(q) + viewParams() + chartParams, { signal: controller ? controller.signal : undefined })
      .then(function (resp) { return resp.ok ? resp.text() : ""; })
      .then(function (html) { if (mine === seq) research.innerHTML = html; })  // rendered and escaped by the server
      .catch(function () {});
  }

  document.addEventListener("zhsearch:query", function (event) {
    var q = event.detail && event.detail.q || "";
    setExports(q);
    clearTimeout(timer);
    timer = setTimeout(function () { refresh(q); }, DEBOUNCE_MS);
  });
})();
