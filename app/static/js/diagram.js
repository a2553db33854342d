// Diagram pages: draw BPMN with the locally served bpmn-js viewer and mark a case's path or the heatmap.
// Data comes from a JSON block in the page; no other requests than the diagram XML itself.
(function () {
  "use strict";

  function markPath(viewer, diagram) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    Object.keys(diagram.done).forEach(function (id) {
      if (!registry.get(id)) return;
      canvas.addMarker(id, "done");
      if (diagram.done[id] > 1) {
        overlays.add(id, { position: { top: -12, right: 12 }, html: '<span class="times" title="办理次数">×' + diagram.done[id] + "</span>" });
      }
    });
    var taken = {};
    diagram.flows.forEach(function (pair) { taken[pair[0] + ">" + pair[1]] = true; });
    registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      var bo = flow.businessObject;
      if (taken[bo.sourceRef.id + ">" + bo.targetRef.id]) canvas.addMarker(flow.id, "flow-done");
    });
    diagram.current.forEach(function (id) {
      if (registry.get(id)) canvas.addMarker(id, "current");
    });
  }

  function markHeat(viewer, cells, caseListUrl) {
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var max = 1;
    cells.forEach(function (c) { if (c.waiting > max) max = c.waiting; });
    cells.forEach(function (c) {
      if (!registry.get(c.bpmn_id)) return;
      var level = c.waiting === 0 ? 0 : Math.min(4, Math.ceil((c.waiting / max) * 4));
      var median = c.median_working_days === null ? "—" : c.median_working_days + " 个工作日";
      var html = '<a class="heat heat-' + level + '" href="' + caseListUrl + "?step=" + encodeURIComponent(c.bpmn_id) +
        '" title="点击查看在此等待的案件"><b>' + c.waiting + "</b> 件等待<br>中位 " + median + "</a>";
      overlays.add(c.bpmn_id, { position: { bottom: 8, left: 4 }, html: html });
    });
  }

  function markDiff(viewer, data) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    [["added", "diff-added"], ["changed", "diff-changed"], ["removed", "diff-removed"]].forEach(function (pair) {
      (data[pair[0]] || []).forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, pair[1]); });
    });
  }

  var READABLE = 1; // labels at their drawn size (about 12 px): the path starts here, not squeezed to the width
  var MIN_ZOOM = 0.2, MAX_ZOOM = 4, STEP = 1.25;

  /** The viewer's own zoom (mouse wheel, with Ctrl or not) and pan (drag) come with the navigated viewer; the
   *  buttons do the same for those without a wheel, and 适应 shows the whole diagram. */
  function addControls(viewer, container) {
    var canvas = viewer.get("canvas");
    var bar = document.createElement("div");
    bar.className = "diagram-controls";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "流程图缩放");
    function button(text, label, act) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.title = label;
      b.setAttribute("aria-label", label);
      b.addEventListener("click", function () { act(); });
      bar.appendChild(b);
    }
    function zoomBy(factor) {
      var next = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, canvas.zoom() * factor));
      var box = canvas.viewbox();
      canvas.zoom(next, { x: box.x + box.width / 2, y: box.y + box.height / 2 });
    }
    button("+", "放大", function () { zoomBy(STEP); });
    button("−", "缩小", function () { zoomBy(1 / STEP); });
    button("适应", "显示整个流程图", function () { canvas.zoom("fit-viewport", "auto"); });
    var hint = document.createElement("span");
    hint.className = "diagram-hint";
    hint.textContent = "滚轮缩放，拖动平移";
    bar.appendChild(hint);
    container.appendChild(bar);
  }

  /** Readable size, the element in the middle of the view. */
  function centreOn(viewer, id) {
    var canvas = viewer.get("canvas");
    var element = viewer.get("elementRegistry").get(id);
    if (!element) return false;
    canvas.zoom(READABLE);
    var box = canvas.viewbox();
    canvas.viewbox({
      x: element.x + element.width / 2 - box.width / 2,
      y: element.y + element.height / 2 - box.height / 2,
      width: box.width,
      height: box.height
    });
    return true;
  }

  function draw(container, xmlUrl, focus, after) {
    var viewer = new window.BpmnJS({ container: container });
    fetch(xmlUrl, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        addControls(viewer, container);
        if (!focus || !centreOn(viewer, focus)) viewer.get("canvas").zoom("fit-viewport", "auto");
        after(viewer);
        container.setAttribute("data-diagram-ready", "");
      })
      .catch(function (err) { container.textContent = "流程图加载失败：" + err; });
  }

  document.querySelectorAll("[data-diagram]").forEach(function (container) {
    var data = JSON.parse(document.getElementById(container.dataset.diagram).textContent);
    if (data.kind === "path") {
      // A case's path starts at its current step (the first, when several are open); a finished one whole.
      var focus = data.diagram.current[0] || null;
      draw(container, data.xml_url, focus, function (v) { markPath(v, data.diagram); });
    }
    if (data.kind === "heat") draw(container, data.xml_url, null, function (v) { markHeat(v, data.cells, data.case_list_url); });
    if (data.kind === "diff") draw(container, data.xml_url, null, function (v) { markDiff(v, data); });
  });
})();
