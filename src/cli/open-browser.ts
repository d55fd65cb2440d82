import { spawn } from 'node:child_process';

/**
 * Open `url` in the writer's default browser, without waiting and without failing: a machine with
 * no desktop (a server, CI) simply has nothing to open, and the printed address is enough there.
 */
export function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
  child.on('error', () => {
    // no opener installed: the address printed on stdout is how the writer gets there
  });
  child.unref();
}
