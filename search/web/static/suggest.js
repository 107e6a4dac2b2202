/* zhsearch: the search box as a combobox offering completions (/api/suggest) as you type.
 *
 * The WAI-ARIA combobox pattern, list autocomplete without automatic selection: the box keeps
 * what was typed; ArrowDown/ArrowUp move through the offered words (aria-activedescendant),
 * Enter searches the chosen one, Escape closes the list, a click or tap chooses too. The list
 * is asked for after a short pause in typing, never while an input method composes, and never
 * holds up typing or the results as you type (static/search.js). Without JavaScript the box is a
 * plain search form.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 120;
  var SIZE = 8;

  var input = document.getElementById("q");
  if (!input || !input.form || typeof fetch !== "function") return;
  var form = input.form;

  // the box and its list side by side in one positioned wrapper, so the list lines up with the box
  var focused = document.activeElement === input;
  var wrapper = document.createElement("div");
  wrapper.className = "combobox";
  input.parentNode.insertBefore(wrapper, input);
  wrapper.appendChild(input);
  if (focused) input.focus();

  var list = document.createElement("ul");
  list.id = "q-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "搜索建议");
  list.hidden = true;
  wrapper.appendChild(list);

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  var options = [];   // [{text, count}] shown
  var active = -1;    // the option aria-activedescendant names, or -1
  var timer = null;
  var controller = null;
  var asked = "";     // what the list on show was asked for

  function formatCount(n) { return Number(n).toLocaleString("en-US"); }

  function setActive(i) {
    var nodes = list.children;
    if (active >= 0 && nodes[active]) nodes[active].setAttribute("aria-selected", "false");
    active = i;
    if (i >= 0 && nodes[i]) {
      nodes[i].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", nodes[i].id);
      nodes[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close() {
    setActive(-1);
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function open() {
    if (!options.length) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function render(q, found) {
    options = found;
    asked = q;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    list.textContent = "";
    found.forEach(function (s, i) {
      var item = document.createElement("li");
      item.id = "q-suggestion-" + i;
      item.className = "suggestion";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      var text = document.createElement("span");
      text.className = "suggestion-text";
      text.textContent = s.text;
      var count = document.createElement("span");
      count.className = "suggestion-count";
      count.textContent = formatCount(s.count);
      var unit = document.createElement("span");
      unit.className = "visually-hidden";
      unit.textContent = " 个段落";
      count.appendChild(unit);
      item.appendChild(text);
      item.appendChild(count);
      list.appendChild(item);
    });
    if (found.length && document.activeElement === input) open(); else close();
  }

  function ask() {
    var q = input.value;
    if (controller) controller.abort();
    controller = null;
    if (!q.trim()) { render("", []); return; }
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    controller = ctrl;
    fetch("/api/suggest?q=" + encodeURIComponent(q) + "&size=" + SIZE,
          { signal: ctrl ? ctrl.signal : undefined, headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (body) {
        if (controller !== ctrl || input.value !== q) return;  // stale: the box has moved on
        render(q, body && body.suggestions ? body.suggestions : []);
      })
      .catch(function () { /* aborted or offline: the list just stays as it was */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  }

  function choose(i) {
    var chosen = options[i];
    close();
    if (!chosen) return;
    input.value = chosen.text;
    if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.submit();
  }

  input.addEventListener("input", function (event) {
    if (!event.isComposing) schedule();
  });
  input.addEventListener("compositionend", schedule);

  input.addEventListener("keydown", function (event) {
    if (event.isComposing || event.keyCode === 229) return;  // the input method's keys
    var shown = !list.hidden;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!shown) { if (asked === input.value) open(); else ask(); return; }
        setActive(active + 1 < options.length ? active + 1 : 0);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!shown) { if (asked === input.value) open(); return; }
        setActive(active > 0 ? active - 1 : options.length - 1);
        break;
      case "Enter":
        if (shown && active >= 0) {
          event.preventDefault();
          choose(active);
        } else {
          close();  // the form searches what was typed
        }
        break;
      case "Escape":
        if (shown) {
          event.preventDefault();  // (a search box would clear itself)
          close();
        }
        break;
      case "Tab":
        close();
        break;
    }
  });

  input.addEventListener("blur", function () { close(); });
  input.addEventListener("focus", function () { if (asked === input.value) open(); });

  // mousedown would move the focus off the box, and the blur close the list before the click
  list.addEventListener("mousedown", function (event) { event.preventDefault(); });
  list.addEventListener("click", function (event) {
    var item = event.target.closest ? event.target.closest("[role=option]") : null;
    if (item) choose(Array.prototype.indexOf.call(list.children, item));
  });
  form.addEventListener("submit", function () { clearTimeout(timer); close(); });
})();
