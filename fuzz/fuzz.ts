/**
 * `npm run fuzz`: mutated files of every format tinymorph reads, fed to the library readers in a
 * watched child process, and generated argument lists and environments fed to real `tinymorph`
 * processes. Seeded and bounded in inputs and time; prints the inputs tried per format and the
 * crash classes found, and exits 1 when there is any crash.
 *
 *   npm run fuzz -- [--seed N] [--inputs N] [--cli-inputs N] [--seconds S] [--formats a,b] [--save DIR] [--only FORMAT:INDEX] [--json]
 */
import { Command, InvalidArgumentError } from 'commander';
import { CLI_FORMAT, runCliFuzz } from './cli/cli-fuzz.js';
import type { FormatReport } from './report.js';
import { formatReport, reportJson } from './report.js';
import { runTarget } from './runner.js';
import { TARGETS } from './targets/index.js';

interface Options {
  seed: number;
  inputs: number;
  cliInputs: number;
  seconds: number;
  formats?: string;
  save?: string;
  only?: string;
  json?: boolean;
}

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
};

const program = new Command('fuzz')
  .description('fuzz every file format tinymorph reads, and its CLI')
  .option('--seed <n>', 'run seed: the same seed gives the same inputs', int, 1)
  .option('--inputs <n>', 'library-level inputs in all, shared evenly by the formats', int, 10_000)
  .option('--cli-inputs <n>', 'tinymorph processes to run with generated arguments', int, 150)
  .option('--seconds <s>', 'stop starting new inputs after this long', int, 900)
  .option('--formats <list>', `comma-separated formats (default all): ${[...TARGETS.map((t) => t.name), CLI_FORMAT].join(', ')}`)
  .option('--save <dir>', "copy each crashing input's files to DIR/<format>-<index>/")
  .option('--only <format:index>', 'run one input again (with --seed of the run that found it)')
  .option('--json', 'also print one JSON line per format');

const o = program.parse(process.argv).opts<Options>();
const started = Date.now();
const deadline = started + o.seconds * 1000;
const known = [...TARGETS.map((t) => t.name), CLI_FORMAT];
let formats = o.formats ? o.formats.split(',').map((s) => s.trim()) : known;
let only: number[] | undefined;
if (o.only) {
  const m = /^(.+):(\d+)$/.exec(o.only) ?? program.error('--only must be FORMAT:INDEX');
  formats = [m[1]];
  only = [Number(m[2])];
}
const unknown = formats.filter((f) => !known.includes(f));
if (unknown.length > 0) program.error(`unknown format(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);

const library = formats.filter((f) => f !== CLI_FORMAT);
const perFormat = Math.ceil(o.inputs / Math.max(1, library.length));
const reports: FormatReport[] = [];
for (const [i, format] of library.entries()) {
  // Each format gets an equal share of the time that is left, so one slow format cannot starve the rest.
  const left = library.length - i + (formats.includes(CLI_FORMAT) ? 1 : 0);
  const share = Date.now() + (deadline - Date.now()) / left;
  const indices = only ?? Array.from({ length: perFormat }, (_, k) => k);
  const r = await runTarget({ target: format, seed: o.seed, indices, deadline: share, saveDir: o.save });
  process.stderr.write(`${format}: ${r.inputs} inputs, ${r.crashes} crashes\n`);
  reports.push(r);
}
if (formats.includes(CLI_FORMAT)) {
  const r = await runCliFuzz({ seed: o.seed, indices: only ?? Array.from({ length: o.cliInputs }, (_, k) => k), deadline, saveDir: o.save });
  reports.push(r);
}
process.stdout.write(`${formatReport(reports, o.seed, (Date.now() - started) / 1000)}\n`);
if (o.json) for (const r of reports) process.stdout.write(`${reportJson(r)}\n`);
process.exitCode = reports.some((r) => r.crashes > 0 || r.harnessError) ? 1 : 0;
