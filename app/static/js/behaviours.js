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

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function option(select, value, text, selected) {
    var o = document.createElement("option");
    o.value = value;
    o.text = text;
    if (selected) o.selected = true;
    select.appendChild(o);
  }

  function monthPicker(input) {
    var match = /^(\d{4})-(\d{2})$/.exec(input.value);
    var now = new Date();
    var year = match ? +match[1] : now.getFullYear();
    var month = match ? +match[2] : now.getMonth() + 1;
    var picker = document.createElement("span");
    picker.className = "month-picker";
    var years = document.createElement("select");
    var monthsOf = document.createElement("select");
    // Each list is named by the field's label: "月份（年）", "月份（月）"; a label[for] now points at the 年 list.
    var label = input.id ? document.querySelector('label[for="' + input.id + '"]') : null;
    for (var up = input.parentNode; !label && up && up.tagName; up = up.parentNode) {
      if (up.tagName === "LABEL") label = up;
    }
    var name = label ? (label.textContent || "").replace(/\s+/g, " ").trim() : "月份";
    if (input.id) { years.id = input.id; input.removeAttribute("id"); }
    years.setAttribute("aria-label", name + "（年）");
    monthsOf.setAttribute("aria-label", name + "（月）");
    years.setAttribute("title", "年");
    monthsOf.setAttribute("title", "月");
    if (!input.required && !match) option(years, "", "—", true);
    var last = Math.max(now.getFullYear() + 1, year);
    for (var y = last; y >= Math.min(2016, year); y--) option(years, String(y), y + " 年", y === year && (match || input.required));
    for (var i = 1; i <= 12; i++) option(monthsOf, pad(i), i + " 月", i === month);
    function sync() {
      input.value = years.value ? years.value + "-" + monthsOf.value : "";
      monthsOf.disabled = !years.value;
    }
    years.addEventListener("change", sync);
    monthsOf.addEventListener("change", sync);
    picker.appendChild(years);
    picker.appendChild(document.createTextNode(" "));
    picker.appendChild(monthsOf);
    input.parentNode.insertBefore(picker, input);
    input.type = "hidden";
    sync();
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

    // Month fields (templates/_month.html): 年 and 月 lists in place of the text box, which keeps YYYY-MM for the
    // form. Browsers without these scripts keep the text box, which takes YYYY-MM as typed.
    var months = document.querySelectorAll("input[data-month-picker]");
    for (var m = 0; m < months.length; m++) monthPicker(months[m]);

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
