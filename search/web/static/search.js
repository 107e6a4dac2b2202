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
  function dataJson(name, fallback) {
    try { return JSON.parse(results.getAttribute(name) || "null") || fallback; } catch (e) { return fallback; }
  }
  var kinds = dataJson("data-kinds", {});
  // Python's str.casefold, near enough for metadata keys: upper then lower case folds ſ, ß, ς
  // and ligatures as casefold does, where toLowerCase alone keeps them
  function casefold(text) { return text.toUpperCase().toLowerCase(); }
  var filterKeys = {};  // casefolded metadata key -> true: what a KEY:VALUE filter may name
  dataJson("data-filter-keys", []).forEach(function (k) { filterKeys[casefold(k)] = true; });
  var facetKeys = dataJson("data-facet-keys", []);

  // --- the same tables as search/page.py ---
  var SORTS = [["relevance", "相关度"], ["newest", "最新"], ["oldest", "最早"]];
  var GROUPS = [["paragraph", "按段落"], ["article", "按文章"]];
  var FACET_LABELS = { source: "来源", year: "年份", month: "月份", date: "日期" };
  var MATCH_LABELS = { word: "整词", substring: "子串", title: "标题" };
  var FACET_VALUES_SHOWN = 10;
  var params = new URLSearchParams(location.search);
  var view = {
    sort: SORTS.some(function (s) { return s[0] === params.get("sort"); }) ? params.get("sort") : "relevance",
    group: GROUPS.some(function (g) { return g[0] === params.get("group"); }) ? params.get("group") : "paragraph",
    explain: params.get("explain") === "1"
  };
  function withView(change) {
    var v = { sort: view.sort, group: view.group, explain: view.explain };
    Object.keys(change).forEach(function (k) { v[k] = change[k]; });
    return v;
  }

  // --- URLs: the same encoding as search/page.py (urllib.parse.quote / quote_plus) ---
  function enc(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }
  function encPlus(s) { return enc(s).replace(/%20/g, "+"); }
  function viewParams(v) {
    return (v.sort !== "relevance" ? "&sort=" + v.sort : "") + (v.group !== "paragraph" ? "&group=" + v.group : "") +
      (v.explain ? "&explain=1" : "");
  }
  function searchUrl(q, page, v) {
    if (!q) return "/";
    return "/?q=" + encPlus(q) + (v ? viewParams(v) : "") + (page > 1 ? "&page=" + page : "");
  }
  function articleUrl(id, q, n) {
    return "/articles/" + enc(id) + (q ? "?q=" + encPlus(q) : "") + (n === undefined ? "" : "#p" + n);
  }

  // --- filter chips and facet links: the same rules as search/page.py ---
  // White space as Python's str.isspace() has it, which the server's parser splits by and strips:
  // JavaScript's \s lacks U+001C-U+001F and U+0085, and has U+FEFF.
  var SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var SPACE_RE = new RegExp("[" + SPACE + "]"), EDGE_SPACES_RE = new RegExp("^[" + SPACE + "]+|[" + SPACE + "]+$", "g");
  function isSpace(c) { return SPACE_RE.test(c); }
  function strip(text) { return text.replace(EDGE_SPACES_RE, ""); }
  var KEY_RE = /([\p{L}\p{M}_][\p{L}\p{M}\p{N}_-]{0,63})[:：]/uy;
  var FILTER_RE = /^(-?)([\p{L}\p{M}_][\p{L}\p{M}\p{N}_-]{0,63})[:：]([\s\S]*)$/u;
  var DATE_RE = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/;

  function isDate(text) {
    var m = DATE_RE.exec(text);
    if (!m) return false;
    var y = +m[1], mo = m[2] ? +m[2] : 1, d = m[3] ? +m[3] : 1;
    var day = new Date(Date.UTC(2000, mo - 1, d));
    day.setUTCFullYear(y);  // Date.UTC reads years 0-99 as 1900-1999
    return y >= 1 && day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
  }
  function isDateFilter(text) {
    text = strip(text.normalize("NFKC"));
    var at = text.indexOf("..");
    if (at < 0) return isDate(text);
    var low = text.slice(0, at), high = text.slice(at + 2);
    return (low || high) && (!low || isDate(low)) && (!high || isDate(high));
  }
  // Where a filter's value that starts at `start` ends, or -1 when it is no value (or no date).
  function filterEnd(q, start, key) {
    if (start >= q.length || isSpace(q.charAt(start))) return -1;
    var close = q.charAt(start) === '"' ? q.indexOf('"', start + 1) : -1;
    var end = close + 1, value;
    if (close > start + 1) {
      value = q.slice(start + 1, close);
    } else {
      for (end = start; end < q.length && !isSpace(q.charAt(end)); end++) {}
      value = q.slice(start, end);
    }
    return casefold(key) === "date" && !isDateFilter(value) ? -1 : end;
  }
  // The spans of the filters of a query, found as the search's own lexer (search/query.py _lex)
  // finds them: a quoted phrase or a title: term is no filter, whatever it holds.
  function filterSpans(q) {
    // as the parser does, a space for each unit of each one: the positions stay those of q
    q = q.replace(/[\p{Cc}\p{Cf}]/gu, function (c) { return " ".repeat(c.length); });
    var spans = [], i = 0, n = q.length;
    while (i < n) {
      if (isSpace(q.charAt(i))) { i++; continue; }
      var begin = i, title = false;
      if (q.charAt(i) === "-" && i + 1 < n && !isSpace(q.charAt(i + 1))) i++;
      var after = q.charAt(i + 6);
      if (after && !isSpace(after) && q.slice(i, i + 6).normalize("NFKC").toLowerCase() === "title:") {
        title = true;
        i += 6;
      }
      KEY_RE.lastIndex = i;
      var key = title ? null : KEY_RE.exec(q);
      if (key && filterKeys[casefold(key[1])]) {
        var end = filterEnd(q, i + key[0].length, key[1]);
        if (end > 0) {
          spans.push([begin, end]);
          i = end;
          continue;
        }
      }
      var close = q.charAt(i) === '"' ? q.indexOf('"', i + 1) : -1;
      if (close !== -1) {
        i = close + 1;
        continue;
      }
      while (i < n && !isSpace(q.charAt(i))) i++;
    }
    return spans;
  }
  function removeSpan(q, start, end) {
    return strip(strip(q.slice(0, start)) + " " + strip(q.slice(end)));
  }
  function activeFilters(q) {
    return filterSpans(q).map(function (span) {
      var token = q.slice(span[0], span[1]), m = FILTER_RE.exec(token);
      var value = m[3].length > 1 && m[3].charAt(0) === '"' && m[3].slice(-1) === '"' ? m[3].slice(1, -1) : m[3];
      var label = (FACET_LABELS[casefold(m[2])] || m[2]) + "：" + value;
      return { token: token, label: (m[1] === "-" ? "不含 " : "") + label, without: removeSpan(q, span[0], span[1]) };
    });
  }
  // for tests/test_browser.py, which holds it to search/page.py's active_filters over any query
  window.zhsearchActiveFilters = activeFilters;
  function formatValue(v) { return Array.isArray(v) ? v.map(String).join("、") : String(v); }
  function filterToken(key, value) {
    value = String(value);
    if (SPACE_RE.test(value) || value.charAt(0) === '"') value = '"' + value.replace(/"/g, "") + '"';
    return (key === "year" || key === "month" ? "date" : key) + ":" + value;
  }
  function facetBlocks(q, facets, chips) {
    var active = {};
    chips.forEach(function (c) { active[c.token] = c.without; });
    var blocks = [];
    Object.keys(facets || {}).forEach(function (key) {
      var rows = facets[key].slice(0, FACET_VALUES_SHOWN).map(function (row) {
        var token = filterToken(key, row.value);
        var on = Object.prototype.hasOwnProperty.call(active, token);
        return { value: formatValue(row.value), count: row.count, active: on,
                 q: on ? active[token] : strip(strip(q) + " " + token) };
      });
      if (rows.length) blocks.push({ key: key, label: FACET_LABELS[key] || key, values: rows });
    });
    return blocks;
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
  function formatNumber(x) { return String(Number(x)); }

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

  function highlightNode(h) {
    var text = el("p", { "class": "hit-text kind-" + h.kind });
    text.innerHTML = h.highlight;  // escaped by the server; only <mark> is markup
    return text;
  }

  function articleMeta(metadata) {
    var out = [];
    if (metadata && metadata.date) out.push(el("span", { "class": "meta-date" }, [formatValue(metadata.date).slice(0, 10)]));
    if (metadata && metadata.source) out.push(el("span", { "class": "meta-source" }, [formatValue(metadata.source)]));
    return out;
  }

  function explainNode(e, anchor, explainUrl) {
    if (!e) {
      return el("details", { "class": "explain" }, [
        el("summary", null, ["为什么匹配"]),
        el("div", { "class": "explain-body", id: anchor }, [
          el("p", { "class": "explain-more" }, [el("a", { href: explainUrl + "#" + anchor }, ["显示每个词的匹配方式和得分"])])
        ])
      ]);
    }
    var terms = el("ul", { "class": "explain-terms" });
    e.terms.forEach(function (t) {
      var parts = [
        el("span", { "class": "term" }, [t.term]),
        el("span", { "class": "match match-" + t.match }, [MATCH_LABELS[t.match] || t.match]),
        el("span", { "class": "score-part" }, ["BM25 ", el("span", { "class": "num" }, [formatNumber(t.score.bm25)])]),
        el("span", { "class": "score-part" }, ["整词加分 ", el("span", { "class": "num" }, [formatNumber(t.score.whole_word_bonus)])])
      ];
      if (t.words && t.words.length) {
        var at = t.occurrences[0];
        parts.push(el("span", { "class": "words", "aria-label": "分词" }, t.words.map(function (w) {
          var part = !w.in_match && w.start < at[1] && w.end > at[0];  // the match cuts through this word
          return el("span", { "class": w.in_match ? "word word-match" : part ? "word word-part" : "word" }, [w.text]);
        })));
      }
      terms.appendChild(el("li", { "class": "explain-term" }, parts));
    });
    return el("details", { "class": "explain" }, [
      el("summary", null, ["为什么匹配"]),
      el("div", { "class": "explain-body", id: anchor }, [
        el("p", { "class": "explain-score" }, ["得分 ", el("span", { "class": "num" }, [formatNumber(e.score)])]),
        terms
      ])
    ]);
  }

  function hitNode(h, q, anchor, explainUrl) {
    var children = [
      el("a", { "class": "hit-link", href: articleUrl(h.article_id, q, h.paragraph) }, [
        el("span", { "class": "hit-title" }, [h.article_title]),
        el("span", { "class": "hit-meta" }, articleMeta(h.metadata).concat([
          el("span", { "class": "kind kind-" + h.kind }, [kinds[h.kind] || h.kind]),
          el("span", { "class": "para-no" }, ["第 " + h.paragraph + " 段"])
        ]))
      ]),
      highlightNode(h),
      explainNode(h.explain, anchor, explainUrl)
    ];
    return el("li", { "class": "hit" }, children);
  }

  function articleHitNode(a, q, anchor, explainUrl) {
    var list = el("ol", { "class": "hit-paragraphs" });
    a.paragraphs.forEach(function (h, j) {
      var children = [
        el("a", { "class": "para-link", href: articleUrl(h.article_id, q, h.paragraph) }, [
          el("span", { "class": "kind kind-" + h.kind }, [kinds[h.kind] || h.kind]),
          el("span", { "class": "para-no" }, ["第 " + h.paragraph + " 段"])
        ]),
        highlightNode(h),
        explainNode(h.explain, anchor + "-" + (j + 1), explainUrl)
      ];
      list.appendChild(el("li", { "class": "hit-paragraph" }, children));
    });
    return el("li", { "class": "hit hit-article" }, [
      el("a", { "class": "hit-link", href: articleUrl(a.article_id, q) }, [
        el("span", { "class": "hit-title" }, [a.article_title]),
        el("span", { "class": "hit-meta" }, articleMeta(a.metadata).concat([
          el("span", { "class": "para-count" }, [formatCount(a.total) + " 个段落匹配"])
        ]))
      ]),
      list
    ]);
  }

  function switchNode(label, options, current, change) {
    return el("nav", { "class": "switch switch-" + label[0], "aria-label": label[1] }, options.map(function (o) {
      var attrs = o[0] === current ? { "class": "on", "aria-current": "true" } : {};
      attrs.href = change(o[0]);
      return el("a", attrs, [o[1]]);
    }));
  }

  function controlsNode(q, chips) {
    var children = [];
    if (chips.length) {
      children.push(el("ul", { "class": "chips", "aria-label": "筛选条件" }, chips.map(function (c) {
        return el("li", null, [el("a", { "class": "chip", href: searchUrl(c.without, 1, view), title: "去掉这个条件" }, [
          c.label, el("span", { "class": "chip-x", "aria-hidden": "true" }, ["×"])
        ])]);
      })));
    }
    children.push(el("div", { "class": "switches" }, [
      switchNode(["sort", "排序"], SORTS, view.sort, function (s) { return searchUrl(q, 1, withView({ sort: s })); }),
      switchNode(["group", "分组"], GROUPS, view.group, function (g) { return searchUrl(q, 1, withView({ group: g })); })
    ]));
    return el("div", { "class": "controls" }, children);
  }

  function facetsNode(blocks) {
    return el("details", { "class": "facets" }, [
      el("summary", null, ["筛选"]),
      el("div", { "class": "facets-body" }, blocks.map(function (b) {
        return el("section", { "class": "facet", "data-key": b.key }, [
          el("h2", null, [b.label]),
          el("ul", null, b.values.map(function (v) {
            var attrs = { "class": v.active ? "facet-value active" : "facet-value", href: searchUrl(v.q, 1, view) };
            if (v.active) attrs["aria-current"] = "true";
            return el("li", null, [el("a", attrs, [
              el("span", { "class": "facet-name" }, [v.value]),
              el("span", { "class": "facet-count" }, [formatCount(v.count)])
            ])]);
          }))
        ]);
      }))
    ]);
  }

  function pagerNode(q, page, pages) {
    return el("nav", { "class": "pager", "aria-label": "分页" }, [
      page > 1
        ? el("a", { rel: "prev", href: searchUrl(q, page - 1, view) }, ["← 上一页"])
        : el("span", { "class": "pager-edge", "aria-hidden": "true" }, ["← 上一页"]),
      el("span", { "class": "pager-info" }, ["第 " + page + " / " + pages + " 页"]),
      page < pages
        ? el("a", { rel: "next", href: searchUrl(q, page + 1, view) }, ["下一页 →"])
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
      children.push(el("a", { href: searchUrl(s, 1, view) }, [s]));
    });
    return el("p", { "class": "did-you-mean" }, children);
  }

  function renderData(q, data) {
    var chips = activeFilters(q);
    if (!data.total) {
      setStatus(["没有找到与 “" + q + "” 匹配的段落"]);
      var none = document.createDocumentFragment();
      none.appendChild(controlsNode(q, chips));
      if (data.suggestions && data.suggestions.length) none.appendChild(didYouMeanNode(data.suggestions));
      none.appendChild(fromTemplate("tpl-none"));
      setResults("none", none);
      return;
    }
    var size = data.size || PAGE_SIZE;
    var grouped = view.group === "article";
    var pages = Math.max(1, Math.ceil((grouped ? data.articles : data.total) / size));
    var counts = ["找到 ", el("strong", { "class": "total" }, [formatCount(data.total)]), grouped ? " 个段落（" : " 个段落"];
    if (grouped) counts.push(el("strong", { "class": "articles" }, [formatCount(data.articles)]), " 篇文章）");
    setStatus(counts.concat([el("span", { "class": "took" }, ["，用时 " + formatMs(data.took_ms) + " 毫秒"])]));
    var main = el("div", { "class": "results-main" });
    if (data.hits.length) {
      var list = el("ol", { "class": grouped ? "hits hits-articles" : "hits", start: String((data.page - 1) * size + 1) });
      var explainUrl = searchUrl(q, data.page, withView({ explain: true }));
      data.hits.forEach(function (h, i) {
        list.appendChild((grouped ? articleHitNode : hitNode)(h, q, "why-" + (i + 1), explainUrl));
      });
      main.appendChild(list);
    } else {
      main.appendChild(el("div", { "class": "notice notice-past" }, [
        el("p", null, ["这一页没有结果了。", el("a", { href: searchUrl(q, pages, view) }, ["回到最后一页"])])
      ]));
    }
    if (pages > 1) main.appendChild(pagerNode(q, data.page, pages));
    var body = el("div", { "class": "results-body" });
    var blocks = facetBlocks(q, data.facets, chips);
    if (blocks.length) body.appendChild(facetsNode(blocks));
    body.appendChild(main);
    var frag = document.createDocumentFragment();
    frag.appendChild(controlsNode(q, chips));
    frag.appendChild(body);
    setResults("results", frag);
  }

  // --- searching ---
  var timer = null;
  var controller = null;
  var seq = 0;

  function syncUrl(q, page) {
    var url = searchUrl(q, page, view);
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
    syncUrl(strip(q) ? q : "", page);
    // static/research.js keeps the timeline and the export links in step with the query
    document.dispatchEvent(new CustomEvent("zhsearch:query", { detail: { q: strip(q) ? q : "" } }));
    if (!strip(q)) {  // as the server's page: a query of white space is no query
      results.removeAttribute("aria-busy");
      renderEmpty();
      return;
    }
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    controller = ctrl;
    results.setAttribute("aria-busy", "true");
    var url = "/api/search?q=" + encPlus(q) + "&page=" + page + "&size=" + PAGE_SIZE + viewParams(view) +
      (facetKeys.length ? "&facets=" + facetKeys.map(enc).join(",") : "") + (view.explain ? "&explain=true" : "");
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
