// 添加一项 and 删除 for the lists a task form draws as rows (templates/_fields.html, render_rows). A new row is a
// copy of the last one, its values and messages cleared, its index one past the highest of the list: the server
// reads whatever indices come (gaps left by a removed row included). Without script the page still works with
// the rows the server drew (the entries typed so far and one blank), so the buttons only show once this runs.
(function () {
  function rowsOf(list) {
    return list.querySelectorAll("tbody tr[data-row]");
  }

  function renumber(list) {
    var rows = rowsOf(list);
    rows.forEach(function (row, index) {
      var number = row.querySelector(".entry-no");
      if (number) number.textContent = String(index + 1);
    });
    list.querySelectorAll("[data-remove-row]").forEach(function (button) {
      button.hidden = rows.length < 2;
    });
  }

  function nextIndex(list, name) {
    var highest = -1;
    list.querySelectorAll("[name]").forEach(function (input) {
      var match = /^(\d+)-/.exec(input.name.slice(name.length + 1));
      if (input.name.indexOf(name + "-") === 0 && match) highest = Math.max(highest, parseInt(match[1], 10));
    });
    return highest + 1;
  }

  function addRow(list) {
    var name = list.getAttribute("data-rows");
    var rows = rowsOf(list);
    var last = rows[rows.length - 1];
    if (!last) return;
    var prefix = new RegExp("^" + name + "-\\d+-");
    var replacement = name + "-" + nextIndex(list, name) + "-";
    var copy = last.cloneNode(true);
    copy.querySelectorAll("[name], [id], label[for]").forEach(function (element) {
      ["name", "id", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value && prefix.test(value)) element.setAttribute(attribute, value.replace(prefix, replacement));
      });
      if (element.matches("select")) element.selectedIndex = 0;
      else if (element.matches("input, textarea")) element.value = "";
    });
    copy.querySelectorAll(".error").forEach(function (message) { message.remove(); });
    copy.querySelectorAll(".has-error").forEach(function (cell) { cell.classList.remove("has-error"); });
    last.parentNode.appendChild(copy);
    renumber(list);
    var first = copy.querySelector("input:not([type=hidden]), textarea, select");
    if (first) first.focus();
  }

  function changed(list) {
    list.dispatchEvent(new Event("input", { bubbles: true })); // the draft is kept (autosave.js)
  }

  document.querySelectorAll("[data-rows]").forEach(function (list) {
    var add = list.querySelector("[data-add-row]");
    if (add) add.hidden = false;
    renumber(list);
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var add = target.closest("[data-add-row]");
    var remove = target.closest("[data-remove-row]");
    var list = (add || remove) && (add || remove).closest("[data-rows]");
    if (!list) return;
    if (add) addRow(list);
    else if (rowsOf(list).length > 1) {
      remove.closest("tr").remove();
      renumber(list);
    }
    changed(list);
  });
})();
