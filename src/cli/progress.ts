import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, extra?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * Progress of a long job on stderr: a bar with rate and ETA on a terminal; JSON lines (at most one a
 * second, and the last) when stderr is not a TTY, so logs and CI stay readable.
 */
export function startProgress(label: string, total: number, unit: string, extraFields: readonly string[] = []): Progress {
  if (process.stderr.isTTY) {
    // `extraFields` name values of `update(done, extra)` shown after the ETA (e.g. disk use).
    const extras = extraFields.map((f) => ` | {${f}}`).join('');
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}${extras}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    const start = Date.now();
    bar.start(total, 0, { rate: '0', ...Object.fromEntries(extraFields.map((f) => [f, ''])) });
    return {
      update: (done, extra) => bar.update(done, { rate: (done / Math.max(1e-3, (Date.now() - start) / 1000)).toFixed(1), ...extra }),
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  const start = Date.now();
  const emit = (done: number, extra?: Record<string, string | number>): void => {
    const elapsed = (Date.now() - start) / 1000;
    process.stderr.write(JSON.stringify({ progress: label, done, total, unit, elapsed_s: +elapsed.toFixed(2), ...extra }) + '\n');
  };
  let latest = 0;
  return {
    update: (done, extra) => {
      latest = done;
      if (Date.now() - last >= 1000 || done === total) {
        last = Date.now();
        emit(done, extra);
      }
    },
    stop: () => {
      if (latest !== total && last !== 0) emit(latest);
    },
  };
}
