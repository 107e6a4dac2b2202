/* zhsearch page: results as you type, on top of a page that works without JavaScript.
 *
 * The server renders the same markup (search/templates/_macros.html); keep the two in
 * step — tests/test_browser.py compares them. Everything is built with textContent
 * except a hit's `highlight`, which the server has already HTML-escaped.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var PAGE_SIZE = 10;

  var input = document.getElementById("q");

  // "/" focuses the search box from anywhere, unless the user is typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (!input) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  var results = document.getElementById("results");
  var status = document.getElementById("status");
  if (!input || !results || !status) return;  // the article page only needs the "/" key

  var form = input.form;
  var apiLink = document.getElementById("api-link");
  var kinds = {};
  try { kinds = JSON.parse(results.getAttribute("data-kinds") || "{}"); } catch (e) { kinds = {}; }

  // --- URLs: the same encoding as search/page.py (urllib.parse.quote / quote_plus) ---
  function enc(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }
  function encPlus(s) { return enc(s).replace(/%20/g, "+"); }
  function searchUrl(q, page) {
    if (!q) return "/";
    return "/?q=" + encPlus(q) + (page > 1 ? "&page=" + page : "");
  }
  function articleUrl(id, q, n) {
    return "/articles/" + enc(id) + (q ? "?q=" + encPlus(q) : "") + "#p" + n;
  }

  // --- DOM helpers ---
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    }
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function fromTemplate(id) {
    var tpl = document.getElementById(id);
    return tpl ? document.importNode(tpl.content, true) : document.createDocumentFragment();
  }
  function formatCount(n) { return Number(n).toLocaleString("en-US"); }
  function formatMs(ms) { return Number(ms).toFixed(1); }

  function setStatus(children) {
    status.textContent = "";
    children.forEach(function (c) {
      status.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
  }

  function setResults(state, content) {
    results.textContent = "";
    results.appendChild(content);
    results.setAttribute("data-state", state);
  }

  function hitNode(h, q) {
    var text = el("p", { "class": "hit-text kind-" + h.kind });
    text.innerHTML = h.highlight;  // escaped by the server; only <mark> is markup
    return el("li", { "class": "hit" }, [
      el("a", { "class": "hit-link", href: articleUrl(h.article_id, q, h.paragraph) }, [
        el("span", { "class": "hit-title" }, [h.article_title]),
        el("span", { "class": "hit-meta" }, [
          el("span", { "class": "kind kind-" + h.kind }, [kinds[h.kind] || h.kind]),
          el("span", { "class": "para-no" }, ["第 " + h.paragraph + " 段"])
        ])
      ]),
      text
    ]);
  }

  function pagerNode(q, page, pages) {
    return el("nav", { "class": "pager", "aria-label": "分页" }, [
      page > 1
        ? el("a", { rel: "prev", href: searchUrl(q, page - 1) }, ["← 上一页"])
        : el("span", { "class": "pager-edge", "aria-hidden": "true" }, ["← 上一页"]),
      el("span", { "class": "pager-info" }, ["第 " + page + " / " + pages + " 页"]),
      page < pages
        ? el("a", { rel: "next", href: searchUrl(q, page + 1) }, ["下一页 →"])
        : el("span", { "class": "pager-edge", "aria-hidden": "true" }, ["下一页 →"])
    ]);
  }

  function renderEmpty() {
    setStatus([]);
    setResults("empty", fromTemplate("tpl-empty"));
  }

  function renderError(message) {
    setStatus([message]);
    setResults("error", fromTemplate("tpl-error"));
  }

  function didYouMeanNode(suggestions) {
    var children = ["您是不是要找："];
    suggestions.forEach(function (s, i) {
      if (i) children.push(el("span", { "class": "sep" }, ["、"]));
      children.push(el("a", { href: searchUrl(s, 1) }, [s]));
    });
    return el("p", { "class": "did-you-mean" }, children);
  }

  function renderData(q, data) {
    if (!data.total) {
      setStatus(["没有找到与 “" + q + "” 匹配的段落"]);
      var none = document.createDocumentFragment();
      if (data.suggestions && data.suggestions.length) none.appendChild(didYouMeanNode(data.suggestions));
      none.appendChild(fromTemplate("tpl-none"));
      setResults("none", none);
      return;
    }
    var size = data.size || PAGE_SIZE;
    var pages = Math.max(1, Math.ceil(data.total / size));
    setStatus([
      "找到 ", el("strong", { "class": "total" }, [formatCount(data.total)]), " 个段落",
      el("span", { "class": "took" }, ["，用时 " + formatMs(data.took_ms) + " 毫秒"])
    ]);
    var frag = document.createDocumentFragment();
    if (data.hits.length) {
      var list = el("ol", { "class": "hits", start: String((data.page - 1) * size + 1) });
      data.hits.forEach(function (h) { list.appendChild(hitNode(h, q)); });
      frag.appendChild(list);
    } else {
      frag.appendChild(el("div", { "class": "notice notice-past" }, [
        el("p", null, ["这一页没有结果了。", el("a", { href: searchUrl(q, pages) }, ["回到最后一页"])])
      ]));
    }
    if (pages > 1) frag.appendChild(pagerNode(q, data.page, pages));
    setResults("results", frag);
  }

  // --- searching ---
  var timer = null;
  var controller = null;
  var seq = 0;

  function syncUrl(q, page) {
    var url = searchUrl(q, page);
    if (location.pathname + location.search !== url) {
      history.replaceState(null, "", url);
    }
    document.title = (q ? q + " - " : "") + "zhsearch 中文全文检索";
    if (apiLink) apiLink.setAttribute("href", "/api/search?q=" + encPlus(q));
  }

  function run(rawQ, page) {
    var q = rawQ;
    var mine = ++seq;
    if (controller) controller.abort();
    controller = null;
    syncUrl(q.trim() ? q : "", page);
    if (!q.trim()) {
      results.removeAttribute("aria-busy");
      renderEmpty();
      return;
    }
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    controller = ctrl;
    results.setAttribute("aria-busy", "true");
    var url = "/api/search?q=" + encPlus(q) + "&page=" + page + "&size=" + PAGE_SIZE;
    fetch(url, { signal: ctrl ? ctrl.signal : undefined, headers: { Accept: "application/json" } })
      .then(function (resp) {
        return resp.json().then(
          function (body) { return { ok: resp.ok, status: resp.status, body: body }; },
          function () { return { ok: false, status: resp.status, body: null }; }
        );
      })
      .then(function (r) {
        if (mine !== seq) return;
        results.removeAttribute("aria-busy");
        if (r.ok && r.body) {
          renderData(q, r.body);
        } else if (r.status === 503) {
          renderError("索引正在建立，请稍后再试。");
        } else if (r.status >= 400 && r.status < 500 && r.body && r.body.description) {
          renderError(String(r.body.description));
        } else {
          renderError("搜索服务暂时不可用，请稍后再试。");
        }
      })
      .catch(function (err) {
        if (mine !== seq || (err && err.name === "AbortError")) return;
        results.removeAttribute("aria-busy");
        renderError("无法连接搜索服务，请检查网络后再试。");
      });
  }

  function schedule() {
    clearTimeout(timer);
    var q = input.value;
    timer = setTimeout(function () { run(q, 1); }, DEBOUNCE_MS);
  }

  // While an IME composes (pinyin letters in the box), wait for the characters it commits.
  input.addEventListener("input", function (event) {
    if (!event.isComposing) schedule();
  });
  input.addEventListener("compositionend", schedule);

  // Typed before this script ran? Then what is shown is not what is in the box.
  var shown = new URLSearchParams(location.search).get("q") || "";
  if (input.value !== shown) schedule();

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      run(input.value, 1);
    });
  }
})();
