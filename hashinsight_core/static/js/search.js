// The quick-search box: "/" or Ctrl/Cmd+K focuses it; typing asks /api/v1/search and shows
// the grouped hits below; arrow keys move, Enter opens, Esc closes. Without this script the
// box is a plain form that opens the /search/ page. Results are built with textContent only
// (never innerHTML): titles are serials and names that anyone may have typed.
(function () {
  "use strict";
  var form = document.querySelector("form.hi-search");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var panel = form.querySelector(".hi-search-results");
  var api = form.getAttribute("data-api");
  var t = (window.HI && window.HI.t) || function (s) { return s; };
  var MIN = 2;
  var DELAY = 120; // ms after the last key before asking the server
  var timer = null;
  var seq = 0; // answers to older requests are dropped
  var active = -1;

  function options() {
    return Array.prototype.slice.call(panel.querySelectorAll("[role=option]"));
  }

  function close() {
    panel.classList.remove("show");
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function open() {
    panel.classList.add("show");
    input.setAttribute("aria-expanded", "true");
  }

  function setActive(index) {
    var items = options();
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) {
      item.classList.toggle("active", i === active);
      item.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function note(text) {
    panel.replaceChildren(el("span", "dropdown-item-text text-secondary small", text));
    open();
  }

  function render(data) {
    var nodes = [];
    var n = 0;
    (data.groups || []).forEach(function (group) {
      nodes.push(el("h6", "dropdown-header", group.title));
      group.hits.forEach(function (hit) {
        var link = el("a", "dropdown-item d-flex justify-content-between gap-2");
        link.href = hit.url;
        link.id = "hi-search-opt-" + n++;
        link.setAttribute("role", "option");
        link.setAttribute("data-kind", group.kind);
        var text = el("span");
        text.appendChild(el("span", "fw-semibold d-block", hit.title));
        if (hit.subtitle) text.appendChild(el("span", "d-block text-secondary hi-search-sub", hit.subtitle));
        link.appendChild(text);
        if (hit.matched) link.appendChild(el("span", "badge text-bg-secondary align-self-start", hit.matched));
        nodes.push(link);
      });
    });
    if (!nodes.length) nodes.push(el("span", "dropdown-item-text text-secondary small", t("No results")));
    nodes.push(el("div", "dropdown-divider"));
    var all = el("a", "dropdown-item small", t("See all results"));
    all.href = data.all_url;
    all.id = "hi-search-opt-" + n;
    all.setAttribute("role", "option");
    nodes.push(all);
    panel.replaceChildren.apply(panel, nodes);
    active = -1;
    open();
  }

  function ask() {
    var q = input.value.trim();
    if (q.length < MIN) {
      if (q.length) note(t("Type at least 2 characters"));
      else close();
      return;
    }
    var mine = ++seq;
    var url = api + "?limit=5&q=" + encodeURIComponent(q);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (mine !== seq) return;
        if (!answer.ok) {
          note((answer.body && answer.body.error && answer.body.error.message) || t("No results"));
          return;
        }
        render(answer.body);
      })
      .catch(function () { if (mine === seq) close(); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, DELAY);
  });

  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!panel.classList.contains("show")) ask();
      else setActive(active + 1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive(active - 1);
    } else if (e.key === "Enter") {
      var items = options();
      var pick = active >= 0 ? items[active] : null;
      if (pick) {
        e.preventDefault();
        window.location.assign(pick.href);
      } // otherwise the form opens the full results page
    } else if (e.key === "Escape") {
      e.preventDefault();
      close();
      input.blur();
    }
  });

  input.addEventListener("focus", function () {
    if (panel.childElementCount && input.value.trim().length >= MIN) open();
  });

  document.addEventListener("click", function (e) {
    if (!form.contains(e.target)) close();
  });

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  document.addEventListener("keydown", function (e) {
    var slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target);
    var k = (e.key === "k" || e.key === "K") && (e.ctrlKey || e.metaKey) && !e.altKey;
    if (!slash && !k) return;
    e.preventDefault();
    // On a phone the box sits in the collapsed menu: open the menu first.
    var menu = form.closest(".navbar-collapse");
    if (menu && !menu.classList.contains("show") && getComputedStyle(menu).display === "none") {
      menu.classList.add("show");
    }
    input.focus();
    input.select();
  });
})();
