// Build the front-end assets the pages use into app/static/vendor, so the app works on an intranet with no
// internet. Run by `make assets` after `npm ci`:
//  - copies the prebuilt browser bundles (bpmn-js viewer, echarts) as they come from the npm registry;
//  - bundles the administrators' web modeler (src/modeler.js, src/modeler.css) with esbuild into
//    vendor/modeler/ (modeler.js, modeler.css and the BPMN icon fonts it refers to).
import { cpSync, mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

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
// Packages bundled into the modeler, listed in versions.json with the copied ones.
const bundled = ["bpmn-js", "bpmn-js-properties-panel", "@bpmn-io/properties-panel", "bpmn-js-i18n", "diagram-js"];

const versionOf = (pkg) => JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;

rmSync(vendor, { recursive: true, force: true });
const versions = {};
for (const [from, to] of Object.entries(files)) {
  mkdirSync(dirname(join(vendor, to)), { recursive: true });
  cpSync(join(modules, from), join(vendor, to), { recursive: true });
  const pkg = from.split("/")[0];
  versions[pkg] = versionOf(pkg);
}

const modelerOut = join(vendor, "modeler");
const result = await esbuild.build({
  absWorkingDir: here,
  // modeler.js imports modeler.css, so esbuild writes modeler.css beside modeler.js.
  entryPoints: { modeler: "src/modeler.js" },
  outdir: modelerOut,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".eot": "file", ".woff": "file", ".woff2": "file", ".ttf": "file", ".svg": "file" },
  assetNames: "fonts/[name]-[hash]",
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});

versions.modeler = Object.fromEntries(bundled.map((pkg) => [pkg, versionOf(pkg)]));
writeFileSync(join(vendor, "versions.json"), JSON.stringify(versions, null, 2) + "\n");

const sizes = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([file, { bytes }]) => [file.split("/").pop(), `${Math.round(bytes / 1024)} KiB`]),
);
console.log("vendor assets:", versions);
console.log("modeler bundle:", sizes);
if (process.env.MODELER_ANALYZE) console.log(await esbuild.analyzeMetafile(result.metafile));
