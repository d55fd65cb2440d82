import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { createAppServer, listenAppServer } from '../../app-server/app-server.js';
import { LOOPBACK_HOSTS } from '../../serve/middleware/request-guard.js';
import { packageRoot } from '../../util/package-root.js';
import { Vault } from '../../vault/vault.js';
import { VaultWatcher } from '../../vault/vault-watcher.js';
import { createWelcomeVault } from '../../vault/welcome-notes.js';
import { openBrowser } from '../open-browser.js';
import { createApp } from '../../serve/app.js';
import { loadModelOffThread } from '../../serve/load-model-off-thread.js';
import { EngineRef } from '../../serve/serve-engine.js';
import { buildEngine, closeEngine } from '../../serve/server.js';
import { setActiveBackend } from '../../tensor/backend-registry.js';
import { loadVaultVectors, saveVaultVector } from '../../app-server/vault-vectors.js';
import { engineRelatedNotes } from '../../app-server/related/engine-related-notes.js';
import { relatedRoutes } from '../../app-server/related/related-routes.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, parseInteger } from '../options.js';

interface AppOptions extends ModelOptions {
  vault: string;
  port: number;
  open: boolean;
  host: string;
}

export const DEFAULT_APP_PORT = 4848;
const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', 'localhost', '::1']);

/** `tinymorph app`: the writing environment — a vault of markdown notes in the browser, served on this machine only. */
export function registerApp(program: Command): void {
  addModelOptions(program
    .command('app')
    .description('open the writing app: a vault of markdown notes in your browser, served on 127.0.0.1')
    .option('--vault <dir>', 'the vault folder (created with a few welcome notes if it does not exist)', 'vault')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parseInteger(0), DEFAULT_APP_PORT)
    .option('--host <address>', 'loopback address to bind (127.0.0.1, localhost or ::1)', '127.0.0.1')
    .option('--no-open', 'do not open a browser; only print the address'))
    .action(async (o: AppOptions) => {
      if (o.backend) setActiveBackend(o.backend);
      // Binding another interface would publish the writer's notes to the network: that needs the
      // server's token authentication, which is not part of the app yet.
      if (!LOOPBACK_ADDRESSES.has(o.host)) throw new UsageError(`--host ${o.host}: the app only binds a loopback address (127.0.0.1, localhost or ::1)`);
      const dir = resolve(o.vault);
      const created = !existsSync(dir);
      if (created) createWelcomeVault(dir);
      const vault = new Vault(dir);
      const watcher = await VaultWatcher.start(vault);
      // The model's OpenAI-compatible routes (ghost text, steering) beside the vault API, behind the
      // app server's own Host guard; they answer 503 until the model has loaded off the event loop.
      const engines = new EngineRef();
      // Style vectors built from notes are kept in the vault (.tinymorph/vectors/) and defined again below.
      const api = createApp({ engines, onVectorBuilt: (name, set) => saveVaultVector(vault.root, name, set) });
      const related = relatedRoutes(vault, engineRelatedNotes(vault, engines, watcher));
      const app = createAppServer({
        vault,
        watcher,
        pageDir: join(packageRoot(), 'dist', 'app'),
        allowedHosts: LOOPBACK_HOSTS,
        mount: (a) => {
          a.route('/api', related);
          a.route('/', api);
        },
      });
      const server = await listenAppServer(app, o.host, o.port).catch(async (e: NodeJS.ErrnoException) => {
        // The watcher would keep the process alive after the error.
        await watcher.close();
        vault.close();
        throw new UsageError(e.code === 'EADDRINUSE' ? `--port ${o.port}: already in use (try another, or 0 for any free port)` : `cannot listen on ${o.host}:${o.port} (${e.message})`);
      });
      process.stdout.write(`${server.url}\n`);
      const engine = buildEngine(await loadModelOffThread({ model: o.model, tokenizer: o.tokenizer, quantize: o.quantize }));
      loadVaultVectors(vault.root, engine.steering, (m) => process.stderr.write(`tinymorph app: ${m}\n`));
      engines.current = engine;
      process.stderr.write(`${created ? 'created a new vault' : 'vault'}: ${vault.root}\npress Ctrl-C to stop\n`);
      if (o.open) openBrowser(created ? `${server.url}/?note=Welcome.md` : server.url);
      const stop = async (): Promise<void> => {
        if (engines.current) await closeEngine(engines.current, 500);
        await watcher.close();
        await server.close();
        vault.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
