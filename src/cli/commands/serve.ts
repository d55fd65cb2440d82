import type { Command } from 'commander';
import { DEFAULT_SCHEDULER_OPTIONS } from '../../serve/scheduler.js';
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from '../../serve/server.js';
import { setActiveBackend } from '../../tensor/backend-registry.js';
import type { ModelOptions } from '../options.js';
import { addModelOptions, collect, parseInteger } from '../options.js';

interface ServeOptions extends ModelOptions {
  host: string;
  port: number;
  apiKey?: string;
  maxBatch: number;
  queue: number;
  stepTokens: number;
  corsOrigin: string[];
}

/** `tinymorph serve`: the OpenAI-compatible server (src/serve) until SIGINT or SIGTERM. */
export function registerServe(program: Command): void {
  addModelOptions(
    program
      .command('serve')
      .description('serve the model over an OpenAI-compatible HTTP API (/v1/completions, /v1/chat/completions, per-request steering)')
      .option('--host <address>', 'address to listen on (anything but loopback needs --api-key)', DEFAULT_HOST)
      .option('--port <n>', 'port (0 picks a free one)', parseInteger(0), DEFAULT_PORT)
      .option('--api-key <key>', 'require "Authorization: Bearer <key>" (default: $TINYMORPH_API_KEY)')
      .option('--max-batch <n>', 'requests decoded together (KV-cache rows)', parseInteger(1), DEFAULT_SCHEDULER_OPTIONS.maxBatch)
      .option('--queue <n>', 'requests that may wait for a row; more get 429', parseInteger(0), DEFAULT_SCHEDULER_OPTIONS.maxQueue)
      .option('--step-tokens <n>', 'tokens per decode step, prompt chunks included (chunked prefill)', parseInteger(2), DEFAULT_SCHEDULER_OPTIONS.stepTokens)
      .option('--cors-origin <origin>', 'let pages from this origin call the API, e.g. http://localhost:5173 (repeatable)', collect, []),
  ).action(async (o: ServeOptions) => {
    if (o.backend) setActiveBackend(o.backend);
    const server = await startServer({
      host: o.host,
      port: o.port,
      apiKey: o.apiKey ?? process.env.TINYMORPH_API_KEY,
      corsOrigins: o.corsOrigin,
      model: o.model,
      tokenizer: o.tokenizer,
      quantize: o.quantize,
      scheduler: { maxBatch: o.maxBatch, maxQueue: o.queue, stepTokens: o.stepTokens },
      onListening: (url) => process.stderr.write(`loading the model; ${url}/health answers 503 until it is ready\n`),
    });
    process.stdout.write(`listening on ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        process.stderr.write(`${signal}: finishing running requests, then stopping\n`);
        void server.close().then(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  });
}
