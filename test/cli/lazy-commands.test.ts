import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { COMMANDS, commandsFor } from '../../src/cli/command-table.js';
import { registerActivations } from '../../src/cli/commands/activations.js';
import { registerApp } from '../../src/cli/commands/app.js';
import { registerDemo } from '../../src/cli/commands/demo.js';
import { registerFeatures } from '../../src/cli/commands/features.js';
import { registerGenerate } from '../../src/cli/commands/generate.js';
import { registerInspect } from '../../src/cli/commands/inspect.js';
import { registerPerplexity } from '../../src/cli/commands/perplexity.js';
import { registerExport } from '../../src/cli/commands/export.js';
import { registerQuantize } from '../../src/cli/commands/quantize.js';
import { registerSae } from '../../src/cli/commands/sae.js';
import { registerServe } from '../../src/cli/commands/serve.js';
import { registerSteer } from '../../src/cli/commands/steer.js';
import { registerTokenize } from '../../src/cli/commands/tokenize.js';
import { registerVector } from '../../src/cli/commands/vector.js';
import { packageRoot } from '../../src/util/package-root.js';
import { TINYMORPH_VERSION } from '../../src/util/version.js';
import { runCli } from './run-cli.js';

/** The program as main.ts built it before commands were imported lazily: every command registered up front, in this order. */
function eagerProgram(): Command {
  const program = new Command('tinymorph')
    .description('a language model you can look into and steer: runtime with hook points, generation, evaluation')
    .version(TINYMORPH_VERSION)
    // The CLI below writes to a pipe: 80 columns, no colours.
    .configureOutput({ getOutHelpWidth: () => 80, getOutHasColors: () => false });
  for (const register of [registerDemo, registerApp, registerGenerate, registerTokenize, registerInspect, registerPerplexity, registerQuantize, registerExport, registerSae, registerActivations, registerFeatures, registerSteer, registerVector, registerServe]) {
    register(program);
  }
  return program;
}

function* commandPaths(cmd: Command, path: string[] = []): Generator<[string[], Command]> {
  yield [path, cmd];
  for (const sub of cmd.commands) yield* commandPaths(sub, [...path, sub.name()]);
}

test('--help of the program and of every command and subcommand reads exactly as with every command registered up front', () => {
  const paths = [...commandPaths(eagerProgram())];
  assert.ok(paths.length > 25, `only ${paths.length} commands found`);
  for (const [path, cmd] of paths) {
    const r = runCli(...path, '--help');
    assert.equal(r.code, 0, `${path.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, cmd.helpInformation(), `tinymorph ${path.join(' ')} --help`);
  }
});

test('the command table lists every command of the program, in its order', () => {
  assert.deepEqual(
    COMMANDS.map((c) => c.name),
    eagerProgram().commands.map((c) => c.name()),
  );
});

test('a known command name loads that command alone; flags, "help" and unknown or misspelt names load them all', () => {
  const names = (args: string[]): string[] => commandsFor(args, COMMANDS).map((c) => c.name);
  assert.deepEqual(names(['generate', 'Once', '-n', '5']), ['generate']);
  assert.deepEqual(names(['sae', 'train', '--help']), ['sae']);
  for (const args of [[], ['--help'], ['-V'], ['help', 'generate'], ['generat'], ['--model', 'generate']]) assert.equal(names(args).length, COMMANDS.length, args.join(' '));
});

test('a misspelt command is still answered with a suggestion, and the version with the version', () => {
  const r = runCli('generat');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'generat'[\s\S]*Did you mean generate\?/);
  assert.equal(runCli('--version').stdout.trim(), TINYMORPH_VERSION);
});

test('generate, run alone, does not import the modules of other commands (the server, the SAE trainer, the vault)', () => {
  // A resolve hook (node:module register) prints every module the real CLI process imports.
  const hook = `data:text/javascript,${encodeURIComponent(
    'import{register}from"node:module";register("data:text/javascript,"+encodeURIComponent("export async function resolve(s,c,n){const r=await n(s,c);process.stderr.write(\\"IMPORT \\"+r.url+\\"\\\\n\\");return r}"));',
  )}`;
  const p = spawnSync(process.execPath, ['--import', hook, join(packageRoot(), 'dist', 'src', 'cli', 'main.js'), 'generate', 'Once', '-n', '2', '-t', '0'], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const imported = p.stderr.split('\n').filter((l) => l.startsWith('IMPORT '));
  assert.ok(imported.some((l) => l.includes('/model/generate.js')), 'the hook saw no imports');
  // zod comes back with the tokenizer.json reader (load-tokenizer.ts imports it statically; loading
  // it only for a tokenizer.json needs an async model load, which is still to do).
  for (const other of ['/src/serve/', '/src/sae/', '/src/steer/', '/src/vault/', '/hono/']) {
    assert.ok(!imported.some((l) => l.includes(other)), `generate imported ${other}: ${imported.filter((l) => l.includes(other))[0]}`);
  }
});
