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
