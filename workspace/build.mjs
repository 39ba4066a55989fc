// Bundles src/ into ../chalicelib/static/ (app.js, app.css), minified, no source maps:
// the Lambda serves these two files as they are. `make workspace` runs it.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.env.WORKSPACE_OUT_DIR || new URL("../chalicelib/static/", import.meta.url).pathname;
await build({
  entryPoints: { app: "src/main.js" },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  outdir: out,
  legalComments: "none",
  loader: { ".css": "css" },
  logLevel: "warning",
});
// The hash of the sources the bundle was made from: a test compares it with the sources.
const files = ["package.json", "package-lock.json", "build.mjs", ...readdirSync("src").sort().map((f) => join("src", f))];
const hash = createHash("sha256");
for (const file of files) hash.update(file + "\0" + readFileSync(file, "utf8") + "\0");
writeFileSync(join(out, "SOURCES_SHA256"), hash.digest("hex") + "\n");
