// Builds the native kernels (binding.gyp → build/Release/tinymorph_native.node) at install time.
// A missing compiler or header must never fail `npm ci`: on any failure this prints one warning
// and exits 0, and tinymorph runs on its reference kernels. TINYMORPH_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const warn = (reason) => {
  process.stderr.write(`tinymorph: native backend unavailable: ${reason}; tinymorph will use the reference backend\n`);
  process.exit(0);
};

if (process.env.TINYMORPH_SKIP_NATIVE === '1') warn('TINYMORPH_SKIP_NATIVE=1');

// node-gyp: npm names its bundled copy in npm_config_node_gyp; outside npm, look beside npm itself.
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const js = candidates.find((p) => p && existsSync(p));
  return js ? [process.execPath, js] : ['node-gyp'];
}

// Headers: installed Node ships them under <prefix>/include/node; use those rather than downloading.
const args = ['rebuild'];
const prefix = resolve(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const [cmd, ...pre] = nodeGyp();
const r = spawnSync(cmd, [...pre, ...args], { cwd: root, encoding: 'utf8', env: process.env });
if (r.error) warn(`cannot run node-gyp (${r.error.code ?? r.error.message})`);
if (r.status !== 0) {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /error|not found|No such/i.test(l));
  warn(`node-gyp rebuild exited with ${r.status}${lines.length ? ` (${lines.slice(0, 3).join(' | ').trim()})` : ''}`);
}
process.stderr.write('tinymorph: native backend built (build/Release/tinymorph_native.node)\n');
