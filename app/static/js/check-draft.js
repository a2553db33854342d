// 逐户排查 on a phone: what is typed into a household's check is kept in this browser until the server has it,
// so a lost connection loses nothing. "未保存" shows while the typed text exists only here.
(function () {
  var store = window.localStorage;

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.type !== "submit" && el.type !== "file";
    });
  }

  function read(form) {
    var values = {};
    fields(form).forEach(function (el) {
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function restore(form, values) {
    fields(form).forEach(function (el) {
      if (!(el.name in values)) return;
      var value = values[el.name];
      if (el.type === "checkbox") el.checked = value.indexOf(el.value) >= 0;
      else if (el.type === "radio") el.checked = el.value === value;
      else el.value = value;
    });
  }

  function showOutcome(form) {
    var chosen = form.querySelector('input[name="outcome"]:checked');
    var checked = !chosen || chosen.value === "checked";
    form.querySelectorAll(".when-checked").forEach(function (el) { el.hidden = !checked; });
    form.querySelectorAll(".when-not-checked").forEach(function (el) { el.hidden = checked; });
  }

  var form = document.getElementById("check-form");
  if (form) {
    var key = form.dataset.draftKey, state = form.querySelector(".draft-state");
    var say = function (text) { state.textContent = text; state.hidden = !text; state.classList.toggle("unsaved", !!text); };
    var saved = store.getItem(key);
    if (saved && !form.querySelector(".has-error")) {
      try { restore(form, JSON.parse(saved)); say("未保存：已恢复上次在本机填写但未保存的内容"); } catch (e) { store.removeItem(key); }
    } else if (saved) {
      say("未保存：请改正标红的项目后再保存");
    }
    showOutcome(form);
    form.addEventListener("input", function () { store.setItem(key, JSON.stringify(read(form))); say("未保存"); });
    form.addEventListener("change", function () { store.setItem(key, JSON.stringify(read(form))); showOutcome(form); say("未保存"); });
    form.addEventListener("submit", function (event) {
      if (form.dataset.native) return;  // the server's own page, with its errors
      event.preventDefault();
      store.setItem(key, JSON.stringify(read(form)));
      say("正在保存…");
      fetch(form.action || window.location.href, {
        method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "error",
        headers: { "X-Check-Save": "fetch", "Accept": "application/json" }
      })
        .then(function (response) {
          var json = response.ok && (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          return json ? response.json() : null;
        })
        .then(function (answer) {
          if (answer && answer.saved) {  // the server has it
            store.removeItem(key);
            window.location.href = answer.next;
          } else {  // refused (a field to correct, the month closed, the session ended): the server's own page
            form.dataset.native = "1";
            form.submit();
          }
        })
        .catch(function () {
          say("未保存：网络中断（或登录已过期），填写的内容已暂存在本机，恢复后请再点“保存”");
        });
    });
  }

  var done = document.querySelector("[data-saved-check]");
  if (done) store.removeItem(done.dataset.savedCheck);
  document.querySelectorAll("[data-draft-key]").forEach(function (row) {
    if (row.tagName === "LI" && store.getItem(row.dataset.draftKey)) {
      var mark = document.createElement("span");
      mark.className = "unsaved";
      mark.textContent = "未保存";
      row.querySelector("a").appendChild(mark);
    }
  });
})();
