import type { Command } from 'commander';
import type { ModelOptions } from '../options.js';
import { addModelOptions, loadFromOptions } from '../options.js';
import { textFromArgOrFile } from '../text-input.js';

export function registerTokenize(program: Command): void {
  addModelOptions(
    program
      .command('tokenize')
      .description("encode text with the model's tokenizer (BOS first, as llama2.c) and show each token")
      .argument('[text]', 'text to encode')
      .option('--text-file <file>', 'read the text from a file ("-": standard input; one trailing newline dropped)'),
  )
    .option('--no-bos', 'do not prepend BOS')
    .option('--json', 'print JSON: ids and pieces')
    .action((arg: string | undefined, o: ModelOptions & { textFile?: string; bos: boolean; json?: boolean }) => {
      const text = textFromArgOrFile(arg, o.textFile, '--text-file', 'text');
      const { tokenizer } = loadFromOptions(o);
      const ids = tokenizer.encode(text, { bos: o.bos });
      const pieces = ids.map((id) => tokenizer.piece(id));
      if (o.json) process.stdout.write(JSON.stringify({ ids, pieces }) + '\n');
      else {
        process.stdout.write(`${ids.length} tokens: [${ids.join(', ')}]\n`);
        ids.forEach((id, i) => process.stdout.write(`${String(id).padStart(6)}  ${JSON.stringify(pieces[i])}\n`));
      }
    });
}
