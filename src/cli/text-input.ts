import { UsageError } from '../errors.js';
import { READ_LIMITS, readTextBounded } from '../util/bounded-read.js';

/**
 * The text a command works on, from its argument or from a file named by `flag` ("-": standard
 * input): a prompt longer than the OS allows for arguments (about 128 KiB each on Linux) comes in
 * a file. As llama.cpp's `--file`, one trailing newline is dropped, since an editor ends every file
 * with one and a prompt ending in "\n" continues differently.
 */
export function textFromArgOrFile(arg: string | undefined, file: string | undefined, flag: string, what: string): string {
  if (file === undefined) {
    if (arg === undefined) throw new UsageError(`give the ${what} as an argument or with ${flag} FILE`);
    return arg;
  }
  if (arg !== undefined && arg !== '') throw new UsageError(`give the ${what} as an argument or with ${flag}, not both`);
  const text = readTextBounded(file, READ_LIMITS.prompt, (problem) => new UsageError(`${flag} ${file}: ${problem}`));
  return text.replace(/\r?\n$/, '');
}
