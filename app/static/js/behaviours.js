// Small behaviours every page may use, declared with data- attributes (the CSP allows no inline handlers):
//  <input type="checkbox" data-select-all="NAME">  ticks or clears every checkbox named NAME;
//  <button type="button" data-print>               prints the page.
document.addEventListener("click", function (event) {
  var target = event.target;
  if (!(target instanceof Element)) return;
  var all = target.closest("[data-select-all]");
  if (all) {
    var name = all.getAttribute("data-select-all");
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  }
  if (target.closest("[data-print]")) window.print();
});

// Written for old browsers too (360's compatibility mode): no arrow functions, no const/let.
(function () {
  "use strict";
  var root = document.documentElement;
  root.className += " js";
  var phone = window.matchMedia ? window.matchMedia("(max-width: 640px)").matches : false;

  function ready(work) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", work);
    else work();
  }

  ready(function () {
    // 菜单: the phone's header is one bar; the button opens the navigation below it.
    var toggle = document.querySelector("[data-menu-toggle]");
    if (toggle) {
      toggle.addEventListener("click", function () {
        var header = toggle.parentNode;
        var open = header.className.indexOf(" open") < 0;
        header.className = open ? header.className + " open" : header.className.replace(" open", "");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }

    // Panels that fold on a phone (comments, attachments below a task): their summary shows the count.
    if (phone) {
      var folds = document.querySelectorAll("details[data-fold-on-phone]");
      for (var i = 0; i < folds.length; i++) folds[i].removeAttribute("open");
    }

    // A list table stacked on a phone shows each cell's column label: cells without their own data-label
    // take their column's heading.
    var tables = document.querySelectorAll("table.list");
    for (var t = 0; t < tables.length; t++) {
      var table = tables[t];
      if (/\bkeep-columns\b/.test(table.className)) continue; // its headings stay in view
      var head = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : null;
      if (!head) continue;
      var labels = [];
      for (var h = 0; h < head.cells.length; h++) {
        var span = head.cells[h].colSpan || 1;
        for (var s = 0; s < span; s++) labels.push((head.cells[h].textContent || "").replace(/\s+/g, " ").trim());
      }
      for (var b = 0; b < table.tBodies.length; b++) {
        var rows = table.tBodies[b].rows;
        for (var r = 0; r < rows.length; r++) {
          var column = 0;
          for (var c = 0; c < rows[r].cells.length; c++) {
            var cell = rows[r].cells[c];
            if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && labels[column]) {
              cell.setAttribute("data-label", labels[column]);
            }
            column += cell.colSpan || 1;
          }
        }
      }
    }
  });
})();
