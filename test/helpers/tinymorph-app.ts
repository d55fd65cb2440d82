/**
 * A real `tinymorph app` process on a free loopback port, as a writer starts it (tests and the app
 * benches drive it through chromium). Resolves once it prints its address; the model loads after
 * that (GET /health says when it is ready).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../src/util/package-root.js';

export async function startTinymorphApp(vaultDir: string, stderr: 'inherit' | 'ignore' = 'inherit'): Promise<{ app: ChildProcess; url: string }> {
  const app = spawn(process.execPath, [join(packageRoot(), 'dist', 'src', 'cli', 'main.js'), 'app', '--vault', vaultDir, '--port', '0', '--no-open'], { stdio: ['ignore', 'pipe', stderr] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: app.stdout! }).once('line', resolve);
    app.once('exit', (code) => reject(new Error(`tinymorph app exited with ${code}`)));
  });
  return { app, url };
}
