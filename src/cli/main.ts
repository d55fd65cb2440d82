#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { TinymorphError } from '../errors.js';
import { TINYMORPH_VERSION } from '../util/version.js';
import { registerActivations } from './commands/activations.js';
import { registerApp } from './commands/app.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerFeatures } from './commands/features.js';
import { registerGenerate } from './commands/generate.js';
import { registerInspect } from './commands/inspect.js';
import { registerPerplexity } from './commands/perplexity.js';
import { registerQuantize } from './commands/quantize.js';
import { registerSae } from './commands/sae.js';
import { registerServe } from './commands/serve.js';
import { registerSteer } from './commands/steer.js';
import { registerTokenize } from './commands/tokenize.js';
import { registerVector } from './commands/vector.js';

/** The `tinymorph` command: thin wrappers over the library; user mistakes end as one line and exit code 1 (2 for bad flags). */
const program = new Command('tinymorph')
  .description('a language model you can look into and steer: runtime with hook points, generation, evaluation')
  .version(TINYMORPH_VERSION)
  .exitOverride()
  .showSuggestionAfterError();
registerDemo(program);
registerApp(program);
registerGenerate(program);
registerTokenize(program);
registerInspect(program);
registerPerplexity(program);
registerQuantize(program);
registerExport(program);
registerSae(program);
registerActivations(program);
registerFeatures(program);
registerSteer(program);
registerVector(program);
registerServe(program);
for (const cmd of program.commands) cmd.exitOverride();

// `tinymorph generate | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has already printed its one-line message (or the help text).
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof TinymorphError) {
    process.stderr.write(`tinymorph: ${oneLine(e.message)}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}

/**
 * A message as one printable line: some carry text from the input (JSON.parse quotes the bad
 * source, newlines included; a binary file's bytes), and a user error is one line on stderr.
 */
function oneLine(message: string): string {
  return message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
