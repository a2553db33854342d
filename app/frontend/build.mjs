// Copy the prebuilt browser bundles the pages use into app/static/vendor, so the app works on an intranet
// with no internet. Run by `make assets` after `npm ci`.
import { cpSync, mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "static", "vendor");

const files = {
  "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-js/bpmn-navigated-viewer.js",
  "bpmn-js/dist/assets/diagram-js.css": "bpmn-js/diagram-js.css",
  "bpmn-js/dist/assets/bpmn-js.css": "bpmn-js/bpmn-js.css",
  "bpmn-js/dist/assets/bpmn-font/css/bpmn.css": "bpmn-js/bpmn-font/css/bpmn.css",
  "bpmn-js/dist/assets/bpmn-font/font": "bpmn-js/bpmn-font/font",
  "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
};

rmSync(vendor, { recursive: true, force: true });
const versions = {};
for (const [from, to] of Object.entries(files)) {
  mkdirSync(dirname(join(vendor, to)), { recursive: true });
  cpSync(join(modules, from), join(vendor, to), { recursive: true });
  const pkg = from.split("/")[0];
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}
writeFileSync(join(vendor, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log("vendor assets:", versions);
