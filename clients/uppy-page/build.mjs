// Bundles the /uppy page for the Consign server to embed:
//   src/uppy-page.js  -> dist/uppy-page.js   (ESM, minified, es2020, one file)
//   src/uppy-page.css -> dist/uppy-page.css  (@uppy/core + @uppy/dashboard CSS)
// No timestamps, no source maps, no code splitting: the same inputs give
// byte-identical outputs.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

const common = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'es2020',
  charset: 'utf8',
  legalComments: 'eof',
  logLevel: 'info',
}

await build({
  ...common,
  entryPoints: ['src/uppy-page.js'],
  outfile: 'dist/uppy-page.js',
  format: 'esm',
  platform: 'browser',
  splitting: false,
  define: { 'process.env.NODE_ENV': '"production"' },
})

await build({
  ...common,
  entryPoints: ['src/uppy-page.css'],
  outfile: 'dist/uppy-page.css',
})
