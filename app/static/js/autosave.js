// Keep a half-filled task form when the page is left (weak signal in villages): one small beacon, no library.
(function () {
  var form = document.getElementById("task-form"), dirty = false;
  if (!form) return;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("pagehide", function () {
    if (dirty && navigator.sendBeacon) navigator.sendBeacon(form.dataset.draftUrl, new FormData(form));
  });
})();
