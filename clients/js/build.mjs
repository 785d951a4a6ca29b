// Bundles src/index.ts into dist/consign.js. Deterministic: pinned esbuild,
// no timestamps, no sourcemap, no metafile paths in the output.
import { build } from "esbuild";

await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/consign.js",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
