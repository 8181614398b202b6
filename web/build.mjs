// Bundle the browser entries in assets/ into static/dist/ (IIFE, minified).
//
// Usage: npm run build   (node build.mjs)
//
// The .bpmnlintrc is compiled to an ES module at build time and served to the
// modeler entry as the virtual module "bpmnlint-config"; htmx is copied from
// node_modules so nothing third-party is committed.

import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);
const compileConfig = require('bpmnlint/lib/support/compile-config');

const root = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(root, 'static', 'dist');

const bpmnlintConfig = {
  name: 'bpmnlint-config',
  setup(build) {
    build.onResolve({ filter: /^bpmnlint-config$/ }, () => ({
      path: path.join(root, '.bpmnlintrc'),
      namespace: 'bpmnlint-config'
    }));
    build.onLoad({ filter: /.*/, namespace: 'bpmnlint-config' }, async (args) => {
      const config = JSON.parse(await readFile(args.path, 'utf8'));
      return {
        contents: await compileConfig(config),
        loader: 'js',
        resolveDir: root,
        watchFiles: [ args.path ]
      };
    });
  }
};

const fontLoaders = {
  '.woff': 'file',
  '.woff2': 'file',
  '.ttf': 'file',
  '.eot': 'file',
  '.svg': 'file'
};

async function main() {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });

  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      viewer: 'assets/viewer.js',
      modeler: 'assets/modeler.js',
      dmn: 'assets/dmn.js',
      charts: 'assets/charts.js'
    },
    outdir,
    bundle: true,
    format: 'iife',
    minify: true,
    sourcemap: false,
    target: [ 'es2020' ],
    platform: 'browser',
    legalComments: 'linked',
    loader: fontLoaders,
    assetNames: 'fonts/[name]-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [ bpmnlintConfig ],
    // The engine's own lint rules live in web/, not in node_modules.
    alias: { 'bpmnlint-plugin-teamflow': './bpmnlint-plugin-teamflow' },
    logLevel: 'warning',
    metafile: true
  });

  await copyFile(
    require.resolve('htmx.org/dist/htmx.min.js'),
    path.join(outdir, 'htmx.js')
  );

  const outputs = [ ...Object.keys(result.metafile.outputs), 'static/dist/htmx.js' ];
  for (const file of outputs.sort()) {
    const { size } = await stat(path.resolve(root, file));
    console.log(`${file.padEnd(48)} ${(size / 1024).toFixed(1).padStart(8)} KiB`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
