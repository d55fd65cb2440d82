import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { llama2cChunks, llama2cFileBytes } from '../../model/llama2c-format.js';
import { readLlama2cQuantized } from '../../model/llama2c-quantized-read.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { describeFsError } from '../../util/fs-error.js';
import { parseInteger } from '../options.js';
import { checkOutputFile } from '../../util/output-target.js';

interface QuantizeCommandOptions {
  groupSize?: number;
  json?: boolean;
}

/** fp32 llama2.c file → Q8_0 llama2.c version 2 file (as export.py --version 2; runs in runq.c). */
export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description('write a Q8_0 copy of an fp32 llama2.c model as a llama2.c version 2 file (the format of export.py --version 2 and runq.c)')
    .argument('<in>', 'fp32 llama2.c model file (v0 or v1)')
    .argument('<out>', 'Q8_0 file to write (replaced atomically)')
    .option('--group-size <n>', 'values per Q8_0 group (default: the largest power of two ≤ 32 dividing dim and hidden_dim)', parseInteger(1))
    .option('--json', 'print JSON')
    .action((input: string, output: string, o: QuantizeCommandOptions) => {
      checkOutputFile(output, 'output');
      // The fp32 file is streamed and quantised matrix by matrix; only the Q8_0 weights are ever held.
      const file = readLlama2cQuantized(input, { groupSize: o.groupSize ?? 'uniform' });
      if (file.format === 'llama2c-v2') throw new UsageError(`${input} is already Q8_0 (llama2.c version 2)`);
      const groupSize = file.weights.wq[0].groupSize;
      const chunks = llama2cChunks(file.config, file.weights, 'llama2c-v2', { groupSize });
      try {
        writeFileAtomic(output, chunks);
      } catch (e) {
        throw new UsageError(`${output}: cannot write: ${describeFsError(e)}`);
      }
      const bytes = llama2cFileBytes(file.config, 'llama2c-v2', groupSize);
      const out = { input, output, from: file.format, groupSize, bytes, inputBytes: file.fileBytes };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        const ratio = (bytes / file.fileBytes).toFixed(3);
        process.stdout.write(`wrote ${output}: llama2c-v2, Q8_0 in groups of ${groupSize}, ${bytes.toLocaleString('en-US')} bytes (${ratio}× the ${file.format} input)\n`);
      }
    });
}
