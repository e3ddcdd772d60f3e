// Page behaviour the templates may not inline: the Content-Security-Policy runs scripts from files only
// and refuses style attributes, so computed geometry travels in data-style and is applied through the
// CSSOM here (again for every fragment htmx swaps in).
(function () {
  "use strict";

  function applyStyles(root) {
    if (!root || !root.querySelectorAll) return;
    var found = Array.prototype.slice.call(root.querySelectorAll("[data-style]"));
    if (root.hasAttribute && root.hasAttribute("data-style")) found.push(root);
    found.forEach(function (el) { el.style.cssText = el.getAttribute("data-style"); });
  }

  // <form data-confirm="question">: ask before submitting (capture phase, so htmx never sees a declined submit).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // The main menu's groups (<details class="navgroup">): one open at a time, closed by a click
  // elsewhere or by Escape.
  function closeMenus(except) {
    Array.prototype.forEach.call(document.querySelectorAll("details.navgroup[open]"), function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("toggle", function (event) {
    var d = event.target;
    if (d && d.classList && d.classList.contains("navgroup") && d.open) closeMenus(d);
  }, true);
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("details.navgroup")) closeMenus(null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null);
  });

  // <input type="checkbox" data-select-all="ids">: ticks or clears every checkbox named ids on the page.
  document.addEventListener("change", function (event) {
    var el = event.target, name = el && el.getAttribute && el.getAttribute("data-select-all");
    if (!name) return;
    Array.prototype.forEach.call(document.querySelectorAll('input[type="checkbox"][name="' + name + '"]'), function (box) {
      box.checked = el.checked;
    });
  });

  // <button data-append-to="textarea id" data-append-from="input id">: the picked value (a person's
  // number from the people picker) joins the list, once; the picker empties for the next.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-append-to]");
    if (!button) return;
    var list = document.getElementById(button.getAttribute("data-append-to"));
    var from = document.getElementById(button.getAttribute("data-append-from"));
    var value = from && from.value.trim();
    if (!list || !value) return;
    var have = list.value.split(/[\s,;，；、|]+/).filter(Boolean);
    if (have.indexOf(value) < 0) list.value = have.concat([value]).join(" ");
    from.value = "";
    from.focus();
  });

  // <select data-autosubmit>: submit the form as soon as the choice changes.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.form && el.hasAttribute("data-autosubmit")) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () { applyStyles(document); });
  document.addEventListener("htmx:load", function (event) { applyStyles(event.target); });
})();
