// Bundles the writing app's page (src/app) with esbuild into dist/app: app.js, app.css and
// index.html, which `tinymorph app` serves. Run by `npm run build`, `prepare`, `prestart` and `test`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'app');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'src', 'app', 'main.ts') },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  // Third-party licence comments go to one file beside the bundle.
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(root, 'src', 'app', file), join(out, file));
