// Every string the administrators' modeler passes to `translate` must come out in Chinese (issue 26, item 7).
// Bundles src/modeler.js as build.mjs does, but unminified and in memory, so only the code the page really
// carries (tree-shaken) is read; lists each literal translate("…") call whose translation is missing or still
// has English words in it, and exits 1 when there is any. Run by tests/admin/test_modeler_translations.py.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
// Names and notations that stay as they are in a Chinese interface.
const KEPT = /\b(BPMN|ID|FEEL|QName|ISO|XML|DMN|CMMN|URI|JSON|UTF|Camunda|Java|EL|cron|someDate)\b/g;

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/modeler.js"],
  bundle: true,
  write: false,
  outdir: "out",
  format: "iife",
  target: "es2020",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".eot": "empty", ".woff": "empty", ".woff2": "empty", ".ttf": "empty", ".svg": "empty", ".css": "empty" },
  logLevel: "error",
});
const code = result.outputFiles.find((f) => f.path.endsWith(".js")).text;

// translate("…"), translate2('…'), translate(`…`) without ${…}: the templates the modeler can show (not an SVG
// transform's "translate(" text, not a literal that is only the start of a concatenation).
const call =
  /(?<!["'])\btranslate\d*\(\s*(?:"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|`((?:\\.|[^`\\$])*)`)(?!\s*\+)/g;
const templates = new Set();
for (const match of code.matchAll(call)) {
  const raw = match[1] ?? match[2] ?? match[3];
  templates.add(JSON.parse(`"${raw.replace(/\\'/g, "'").replace(/\\`/g, "`").replace(/(?<!\\)"/g, '\\"')}"`));
}
// Templates built at run time: the list entry's item/items, bpmn-js's "Align elements " + alignment.
templates.add("List contains {numOfItems} item");
templates.add("List contains {numOfItems} items");
for (const side of ["left", "right", "center", "top", "bottom", "middle"]) templates.add(`Align elements ${side}`);

// translate.js as the bundle has it (bundled to one ES module, so node reads it as the browser does).
const table = await esbuild.build({
  absWorkingDir: here, entryPoints: ["src/translate.js"], bundle: true, write: false, format: "esm", logLevel: "error",
});
const { translate } = await import(`data:text/javascript;base64,${Buffer.from(table.outputFiles[0].text).toString("base64")}`);
const english = [];
for (const template of [...templates].sort()) {
  if (!/[A-Za-z]{2,}/.test(template.replace(/\{[^}]+\}/g, ""))) continue; // nothing to translate ("+", "…")
  const text = translate(template, {});
  if (text === template || /[A-Za-z]{2,}/.test(text.replace(/\{[^}]+\}/g, "").replace(KEPT, ""))) {
    english.push(`${JSON.stringify(template)} → ${JSON.stringify(text)}`);
  }
}
console.log(`modeler: ${templates.size} translated templates, ${english.length} not in Chinese`);
if (english.length) {
  console.log(english.join("\n"));
  process.exit(1);
}
