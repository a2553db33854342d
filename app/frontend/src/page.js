// Page controller of the modeler: loads the diagram, wires the toolbar to the server's draft, validate and
// deploy endpoints, shows problems beside the canvas and on the diagram, and guards unsaved changes.

const UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;

function escapeXml(text) {
  return String(text).replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]);
}

/** A minimal diagram for a process that has no XML yet: one start event, process id = the process key. */
export function emptyDiagram(processKey) {
  const id = escapeXml(processKey || "Process_1");
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" isExecutable="true">
    <bpmn:startEvent id="Start_${id}" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_${id}">
    <bpmndi:BPMNPlane id="Plane_${id}" bpmnElement="${id}">
      <bpmndi:BPMNShape id="Start_${id}_di" bpmnElement="Start_${id}">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;
}

/** The text of an uploaded XML file, decoded by its BOM or XML declaration (e.g. GBK, GB18030, ISO-8859-1 from
 *  other tools), with the declaration then saying UTF-8. Unknown encodings are read as UTF-8. */
export function decodeXml(buffer) {
  const bytes = new Uint8Array(buffer);
  let encoding = "utf-8";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = "utf-16le";
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = "utf-16be";
  else {
    const head = new TextDecoder("latin1").decode(bytes.subarray(0, 512));
    const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
    if (declared) encoding = declared[1];
  }
  let decoder;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    decoder = new TextDecoder("utf-8");
  }
  return decoder
    .decode(bytes)
    .replace(/^(\s*<\?xml[^>]*\bencoding\s*=\s*["'])[A-Za-z0-9._-]+(["'])/, "$1UTF-8$2");
}

/** An import error from bpmn-js, said in Chinese (the original message is kept in brackets). */
export function importErrorMessage(error) {
  const original = ((error && error.message) || String(error)).split("\n")[0].trim();
  let reason = "不是有效的 BPMN 2.0 XML 文件";
  if (/unparsable content|unclosed|missing|non-whitespace|invalid|Text data outside/i.test(original)) {
    reason = "XML 格式有误，无法解析";
  } else if (/failed to parse document as <bpmn:Definitions>|unknown type|bpmn:Definitions/i.test(original)) {
    reason = "文件不是 BPMN 2.0 流程定义（根元素应为 bpmn:definitions）";
  } else if (/no diagram to display|no process or collaboration/i.test(original)) {
    reason = "文件中没有可显示的流程图（缺少图形信息 BPMNDiagram）";
  }
  return `无法导入：${reason}。（${original}）`;
}

/** Where a problem badge sits: a shape's top-right corner, a connection's middle. */
function badgePosition(element) {
  if (!element.waypoints) return { top: -12, right: 12 };
  const points = element.waypoints;
  const minX = Math.min(...points.map((p) => p.x));
  const minY = Math.min(...points.map((p) => p.y));
  const i = Math.max(0, Math.floor((points.length - 1) / 2));
  const a = points[i];
  const b = points[Math.min(i + 1, points.length - 1)];
  return { left: (a.x + b.x) / 2 - minX - 10, top: (a.y + b.y) / 2 - minY - 10 };
}

const STATUS_MESSAGES = {
  0: "无法连接服务器，请检查网络",
  400: "请求有误（页面可能已过期，请刷新后重试）",
  401: "登录已失效，请重新登录",
  403: "无权进行此操作",
  404: "草稿或流程不存在",
  409: "冲突：草稿已部署或已被他人修改，请刷新后重试",
  413: "内容过大",
  422: "提交的内容有误",
  500: "服务器内部错误，请稍后重试或联系管理员",
};

/** "2026-11-29T01:38:19.123456+00:00" → "2026-11-29 01:38:19"; anything else as it is. */
export function displayTime(value) {
  if (typeof value !== "string") return value ?? "";
  return value.replace("T", " ").replace(/\.\d+/, "").replace(/(Z|[+-]\d\d:?\d\d)$/, "");
}

const WARNINGS = [
  [/^unresolved reference <(.+)>$/, "引用无法解析：$1"],
  [/^no bpmnElement referenced in (.+)$/, "图形信息没有对应的流程元素：$1"],
  [/^unknown di (.+) for element (.+)$/, "元素 $2 的图形信息 $1 无法识别"],
  [/^multiple DI elements defined for (.+)$/, "元素 $1 有多份图形信息"],
  [/^unparsable content (.+) detected/, "无法解析的内容 $1"],
  [/^unknown type <(.+)>$/, "未知类型 <$1>"],
  [/^unsupported document encoding <(.+)>, falling back to UTF-8$/, "不支持的文件编码 $1，按 UTF-8 读取"],
];

/** A bpmn-js import warning in Chinese where we know its form; otherwise as it is. */
export function warningMessage(message) {
  for (const [pattern, text] of WARNINGS) {
    if (pattern.test(message)) return message.replace(pattern, text);
  }
  return message;
}

export class ModelerPage {
  constructor(root, modeler, config) {
    this.root = root;
    this.modeler = modeler;
    this.config = config;
    this.draftId = config.draft_id ?? null;
    this.dirty = false;
    this.busy = false;
    this.problems = [];

    this.canvasEl = root.querySelector("[data-modeler-canvas]");
    this.statusEl = root.querySelector("[data-modeler-status]");
    this.messageEl = root.querySelector("[data-modeler-message]");
    this.problemsEl = root.querySelector("[data-modeler-problems]");
    this.problemsTitleEl = root.querySelector("[data-modeler-problems-title]");
    this.fileInput = root.querySelector("[data-modeler-file]");

    root.querySelectorAll("[data-action]").forEach((button) => {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        this.run(button.dataset.action);
      });
    });
    this.fileInput?.addEventListener("change", () => {
      const file = this.fileInput.files[0];
      this.fileInput.value = "";
      if (file) this.guard(() => this.upload(file));
    });

    const eventBus = modeler.get("eventBus");
    eventBus.on("commandStack.changed", (event) => {
      if (event.trigger !== "clear") this.setDirty(true);
    });
    eventBus.on("selection.changed", ({ newSelection }) => this.highlightProblemsOf(newSelection));
    window.addEventListener("beforeunload", (event) => {
      if (!this.dirty) return;
      event.preventDefault();
      event.returnValue = "";
    });
    this.renderStatus();
  }

  // ---- loading -----------------------------------------------------------------------------------------

  async load() {
    let xml = this.config.xml;
    if (!xml && this.config.xml_url) {
      try {
        const response = await fetch(this.config.xml_url, { credentials: "same-origin" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        xml = await response.text();
      } catch (error) {
        this.message("error", `无法读取流程图：${error.message}`);
        return;
      }
    }
    if (!xml) xml = emptyDiagram(this.config.process_key);
    try {
      const { warnings } = await this.modeler.importXML(xml);
      this.fit();
      this.showWarnings(warnings);
    } catch (error) {
      this.message("error", importErrorMessage(error));
      this.showWarnings(error.warnings || []);
    }
  }

  /** Fit the whole diagram in view, clear of the palette on the left, and never zoomed in beyond 100%. */
  fit() {
    const canvas = this.modeler.get("canvas");
    const inner = canvas.viewbox().inner;
    const width = this.canvasEl.clientWidth;
    const height = this.canvasEl.clientHeight;
    if (!inner || !inner.width || !inner.height || !width || !height) return;
    const palette = this.canvasEl.querySelector(".djs-palette");
    const left = (palette ? palette.offsetLeft + palette.offsetWidth : 0) + 24;
    const margin = 24;
    const scale = Math.min((width - left - margin) / inner.width, (height - 2 * margin) / inner.height, 1);
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - (height / scale - inner.height) / 2,
      width: width / scale,
      height: height / scale,
    });
  }

  // ---- actions -----------------------------------------------------------------------------------------

  run(action) {
    const actions = {
      save: () => this.save({ force: true }),
      validate: () => this.validate(),
      deploy: () => this.deploy(),
      download: () => this.download(),
      upload: () => this.fileInput?.click(),
    };
    if (action === "upload") return actions.upload();
    if (actions[action]) this.guard(actions[action]);
  }

  async guard(work) {
    if (this.busy) return;
    this.setBusy(true);
    try {
      await work();
    } catch (error) {
      this.message("error", `操作失败：${error.message || error}`);
    } finally {
      this.setBusy(false);
    }
  }

  /** Save the draft; unless forced, skip when nothing changed since the last save. Returns true when saved. */
  async save({ force = false } = {}) {
    if (!force && !this.dirty && this.draftId !== null) return true;
    const { xml } = await this.modeler.saveXML({ format: true });
    this.message("info", "正在保存草稿……");
    const answer = await this.post(this.config.save_url, {
      process_key: this.config.process_key,
      xml,
      draft_id: this.draftId,
    });
    if (!answer.ok) {
      this.failed("保存草稿失败", answer);
      return false;
    }
    this.draftId = answer.data.draft_id;
    this.savedAt = displayTime(answer.data.saved_at);
    if (answer.data.process_key) this.config.process_key = answer.data.process_key;
    if (answer.data.edit_url) history.replaceState(null, "", answer.data.edit_url);
    this.setDirty(false);
    this.message("ok", `草稿已保存（${this.savedAt}）`);
    return true;
  }

  /** Save, then validate the draft. Returns true when the draft is valid. */
  async validate({ quiet = false } = {}) {
    if (!(await this.save())) return false;
    const url = this.config.validate_url_template.replace("{draft_id}", encodeURIComponent(this.draftId));
    this.message("info", "正在校验……");
    const answer = await this.post(url, { draft_id: this.draftId });
    if (!answer.ok && !(answer.data && Array.isArray(answer.data.problems))) {
      this.failed("校验失败", answer);
      return false;
    }
    const problems = answer.data.problems || [];
    const valid = answer.ok && answer.data.valid === true && problems.length === 0;
    this.showProblems(problems, valid ? "校验通过，没有发现问题" : `校验发现 ${problems.length} 个问题`);
    if (valid) {
      if (!quiet) this.message("ok", "校验通过：可以部署。");
    } else {
      this.message("error", `校验未通过：共 ${problems.length} 个问题，见右侧列表和图上的红色标记。`);
    }
    return valid;
  }

  async deploy() {
    if (!(await this.validate({ quiet: true }))) return;
    if (!window.confirm("部署为新版本后，新立案件将按新版本办理；在办案件仍按原版本办理。确定部署？")) {
      this.message("info", "已取消部署。");
      return;
    }
    const url = this.config.deploy_url_template.replace("{draft_id}", encodeURIComponent(this.draftId));
    this.message("info", "正在部署……");
    const answer = await this.post(url, { draft_id: this.draftId });
    if (answer.status === 422 && answer.data && Array.isArray(answer.data.problems)) {
      this.showProblems(answer.data.problems, `部署被拒绝：${answer.data.problems.length} 个问题`);
      this.message("error", "部署被拒绝：见右侧问题列表和图上的红色标记。");
      return;
    }
    if (!answer.ok) {
      this.failed("部署失败", answer);
      return;
    }
    const { version } = answer.data;
    // The deployed draft is used up: further edits are saved as a new draft.
    this.draftId = null;
    this.savedAt = null;
    this.setDirty(false);
    this.message("ok", `已部署为第 ${version} 版。`, this.config.versions_url ? { href: this.config.versions_url, text: "查看版本列表" } : null);
  }

  async download() {
    const { xml } = await this.modeler.saveXML({ format: true });
    const blob = new Blob([xml], { type: "application/xml" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${this.config.process_key || "diagram"}.bpmn`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  async upload(file) {
    if (file.size > UPLOAD_LIMIT_BYTES) {
      this.message("error", `文件过大（${Math.round(file.size / 1024 / 1024)} MB），上限为 10 MB。`);
      return;
    }
    if (this.dirty && !window.confirm("当前有未保存的修改，导入文件将替换当前流程图。继续？")) return;
    const text = decodeXml(await file.arrayBuffer());
    const { xml: previous } = await this.modeler.saveXML().catch(() => ({ xml: null }));
    try {
      const { warnings } = await this.modeler.importXML(text);
      this.fit();
      this.clearProblems();
      this.setDirty(true);
      this.showWarnings(warnings);
      this.message(
        warnings.length ? "warn" : "ok",
        `已导入 ${file.name}${warnings.length ? `，有 ${warnings.length} 条导入警告` : ""}。保存草稿后生效。`,
      );
    } catch (error) {
      if (previous) {
        await this.modeler.importXML(previous).catch(() => {});
        this.fit();
      }
      this.message("error", `${file.name}：${importErrorMessage(error)}`);
    }
  }

  // ---- server ------------------------------------------------------------------------------------------

  async post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": this.config.csrf_token || "",
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      return { ok: false, status: 0, data: null, error };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { ok: response.ok && data !== null, status: response.status, data };
  }

  failed(what, answer) {
    if (answer.data && Array.isArray(answer.data.problems) && answer.data.problems.length) {
      this.showProblems(answer.data.problems, `${what}：${answer.data.problems.length} 个问题`);
    }
    const detail =
      (answer.data && (answer.data.message || answer.data.error || answer.data.description)) ||
      STATUS_MESSAGES[answer.status] ||
      (answer.status >= 500 ? STATUS_MESSAGES[500] : `服务器返回 ${answer.status}`);
    this.message("error", `${what}：${detail}`);
  }

  // ---- problems on the diagram and in the list ---------------------------------------------------------

  /** The diagram element a problem names: a shape or connection id, or a process / participant id. */
  elementFor(id) {
    if (!id) return null;
    const registry = this.modeler.get("elementRegistry");
    const direct = registry.get(id);
    if (direct) return direct;
    const root = this.modeler.get("canvas").getRootElement();
    return (
      registry.find((e) => e.businessObject && (e.businessObject.id === id || e.businessObject.processRef?.id === id)) ||
      (root.businessObject?.id === id ? root : null)
    );
  }

  clearProblems() {
    const canvas = this.modeler.get("canvas");
    this.modeler.get("overlays").remove({ type: "rpm-problem" });
    for (const problem of this.problems) {
      if (problem.element && problem.element !== canvas.getRootElement()) {
        try {
          canvas.removeMarker(problem.element, "rpm-has-problem");
        } catch {
          /* the element was removed since */
        }
      }
    }
    this.problems = [];
    this.problemsEl.replaceChildren();
    this.root.classList.remove("has-problems");
  }

  showProblems(problems, title, kind = "error") {
    this.clearProblems();
    const canvas = this.modeler.get("canvas");
    const overlays = this.modeler.get("overlays");
    const root = canvas.getRootElement();
    this.problems = problems.map((p) => ({ ...p, element: this.elementFor(p.element_id) }));
    this.problemsTitleEl.textContent = title;
    this.root.classList.toggle("has-problems", this.problems.length > 0);

    const byElement = new Map();
    for (const problem of this.problems) {
      const li = document.createElement("li");
      li.className = `rpm-problem ${kind}`;
      const where = document.createElement(problem.element ? "button" : "span");
      where.className = problem.element ? "link rpm-problem-element" : "rpm-problem-element";
      const name = problem.element?.businessObject?.name;
      where.textContent = problem.element_id ? (name ? `${name}（${problem.element_id}）` : problem.element_id) : "整个流程";
      if (problem.element) where.addEventListener("click", () => this.focusElement(problem.element));
      const text = document.createElement("span");
      text.className = "rpm-problem-message";
      text.textContent = problem.message;
      li.append(where, "：", text);
      if (problem.element_id && !problem.element) li.title = "图中找不到此元素";
      this.problemsEl.appendChild(li);
      problem.item = li;
      if (problem.element && problem.element !== root && kind === "error") {
        if (!byElement.has(problem.element)) byElement.set(problem.element, []);
        byElement.get(problem.element).push(problem);
      }
    }
    for (const [element, list] of byElement) {
      canvas.addMarker(element, "rpm-has-problem");
      const badge = document.createElement("div");
      badge.className = "rpm-problem-badge";
      badge.textContent = list.length > 1 ? `! ${list.length}` : "!";
      badge.title = list.map((p) => p.message).join("\n");
      badge.addEventListener("click", () => this.focusElement(element));
      overlays.add(element, "rpm-problem", { position: badgePosition(element), html: badge });
    }
  }

  showWarnings(warnings) {
    if (!warnings || !warnings.length) {
      this.clearProblems();
      this.problemsTitleEl.textContent = "问题";
      return;
    }
    this.showProblems(
      warnings.map((w) => ({ element_id: w.element?.id || null, message: warningMessage(w.message) })),
      `导入警告 ${warnings.length} 条`,
      "warning",
    );
  }

  focusElement(element) {
    const canvas = this.modeler.get("canvas");
    if (element === canvas.getRootElement()) return;
    this.modeler.get("selection").select(element);
    if (canvas.scrollToElement) canvas.scrollToElement(element, { top: 100, bottom: 100, left: 150, right: 150 });
    this.canvasEl.focus?.();
  }

  highlightProblemsOf(selection) {
    for (const problem of this.problems) {
      problem.item?.classList.toggle("current", selection.includes(problem.element));
    }
  }

  // ---- status ------------------------------------------------------------------------------------------

  setDirty(dirty) {
    this.dirty = dirty;
    this.renderStatus();
  }

  setBusy(busy) {
    this.busy = busy;
    this.root.classList.toggle("busy", busy);
    this.root.querySelectorAll("[data-action]").forEach((b) => (b.disabled = busy));
  }

  renderStatus() {
    if (!this.statusEl) return;
    this.statusEl.classList.toggle("dirty", this.dirty);
    if (this.dirty) {
      this.statusEl.textContent = "有未保存的修改";
    } else if (this.savedAt) {
      this.statusEl.textContent = `草稿 #${this.draftId} 已保存（${this.savedAt}）`;
    } else if (this.draftId !== null) {
      this.statusEl.textContent = `草稿 #${this.draftId}`;
    } else {
      this.statusEl.textContent = "尚未保存草稿";
    }
  }

  message(kind, text, link = null) {
    if (!this.messageEl) return;
    this.messageEl.className = `rpm-message ${kind}`;
    this.messageEl.textContent = text;
    if (link) {
      const a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      this.messageEl.append(" ", a);
    }
  }
}
