// The administrators' web modeler (templates/admin/modeler.html): bpmn-js Modeler with its properties
// panel, the spiffworkflow moddle extension, the "本系统设置" group and a Chinese interface, plus the page
// controller for 保存草稿 / 校验 / 部署 / 下载 / 上传. Bundled by build.mjs into static/vendor/modeler/.
import Modeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";

import spiffworkflowDescriptor from "./spiffworkflow.json";
import translateModule, { translate } from "./translate.js";
import { localize } from "./localize.js";
import RpmPropertiesProvider from "./RpmPropertiesProvider.js";
import { ModelerPage } from "./page.js";
import "./modeler.css";

const rpmPropertiesModule = {
  __init__: ["rpmPropertiesProvider"],
  rpmPropertiesProvider: ["type", RpmPropertiesProvider],
};

export function createModeler({ canvas, properties, forms = [], roles = [] }) {
  return new Modeler({
    container: canvas,
    propertiesPanel: { parent: properties },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      rpmPropertiesModule,
      translateModule,
    ],
    moddleExtensions: { spiffworkflow: spiffworkflowDescriptor },
    rpm: { forms, roles },
  });
}

function start() {
  // The page hands over its settings as a JSON block (not an inline script, which the CSP forbids).
  const block = document.getElementById("modeler-config");
  const config = block ? JSON.parse(block.textContent) : null;
  const root = document.querySelector("[data-modeler]");
  if (!config || !root) return;
  const modeler = createModeler({
    canvas: root.querySelector("[data-modeler-canvas]"),
    properties: root.querySelector("[data-modeler-properties]"),
    forms: config.forms,
    roles: config.roles,
  });
  localize(root, translate);
  const page = new ModelerPage(root, modeler, config);
  window.rpmModeler = { modeler, page };
  page.load();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
