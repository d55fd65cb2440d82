import type { Command } from 'commander';

/** A top-level command: its name, and how to import the function that registers it (flags, help, action). */
export interface CommandEntry {
  name: string;
  load: () => Promise<(program: Command) => void>;
}

/** Every command in `tinymorph --help` order; each module is imported only when its command may run. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'demo', load: async () => (await import('./commands/demo.js')).registerDemo },
  { name: 'app', load: async () => (await import('./commands/app.js')).registerApp },
  { name: 'generate', load: async () => (await import('./commands/generate.js')).registerGenerate },
  { name: 'tokenize', load: async () => (await import('./commands/tokenize.js')).registerTokenize },
  { name: 'inspect', load: async () => (await import('./commands/inspect.js')).registerInspect },
  { name: 'perplexity', load: async () => (await import('./commands/perplexity.js')).registerPerplexity },
  { name: 'quantize', load: async () => (await import('./commands/quantize.js')).registerQuantize },
  { name: 'export', load: async () => (await import('./commands/export.js')).registerExport },
  { name: 'sae', load: async () => (await import('./commands/sae.js')).registerSae },
  { name: 'activations', load: async () => (await import('./commands/activations.js')).registerActivations },
  { name: 'features', load: async () => (await import('./commands/features.js')).registerFeatures },
  { name: 'steer', load: async () => (await import('./commands/steer.js')).registerSteer },
  { name: 'vector', load: async () => (await import('./commands/vector.js')).registerVector },
  { name: 'serve', load: async () => (await import('./commands/serve.js')).registerServe },
];

/**
 * The commands to register for these arguments (argv after the script). The program itself takes
 * no option with a value, so its first argument, unless it is a flag, names the command: only
 * that one is needed, and its help and errors read the same without its siblings. Anything else
 * (no arguments, `--help`, `--version`, `help`, an unknown or misspelt name) needs them all: the
 * command list, and suggestions for a misspelt name.
 */
export function commandsFor(args: readonly string[], table: readonly CommandEntry[]): readonly CommandEntry[] {
  const one = table.find((c) => c.name === args[0]);
  return one ? [one] : table;
}
