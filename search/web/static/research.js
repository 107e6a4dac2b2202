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

  // XMLHttpRequest, not fetch: a stale answer is dropped rather than aborted, and the search's own
  // requests (fetch, in search.js) stay the only ones of their kind
  var timer = null, seq = 0;
  function refresh(q) {
    var mine = ++seq;
    if (!q) {
      research.textContent = "";
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("GET", "/research?q=" + encPlus(q) + viewParams() + chartParams);
    xhr.onload = function () {
      if (mine === seq && xhr.status === 200) research.innerHTML = xhr.responseText;  // rendered and escaped by the server
    };
    xhr.send();
  }

  document.addEventListener("zhsearch:query", function (event) {
    var q = event.detail && event.detail.q || "";
    setExports(q);
    clearTimeout(timer);
    timer = setTimeout(function () { refresh(q); }, DEBOUNCE_MS);
  });
})();
