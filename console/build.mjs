// node build.mjs OUTDIR: bundles src/ into OUTDIR/{index.html,app.js,app.css}.
// Run by the CMake build (src/console/CMakeLists.txt) when a source changes.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
if (!out) {
  console.error("usage: node build.mjs OUTDIR");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  outfile: join(out, "app.js"),
  legalComments: "none",
  logLevel: "warning",
});
await esbuild.build({
  entryPoints: ["src/app.css"],
  bundle: true,
  minify: true,
  outfile: join(out, "app.css"),
  logLevel: "warning",
});
copyFileSync("src/index.html", join(out, "index.html"));
