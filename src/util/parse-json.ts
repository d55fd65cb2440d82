/**
 * JSON text from a file or a request, parsed with bounds: at most `maxChars` characters, and at
 * most MAX_JSON_DEPTH levels of nesting. V8's JSON.parse itself does not recurse, but much of what
 * handles a parsed value afterwards does (JSON.stringify, structuredClone, recursive validators),
 * and a document 100,000 levels deep would overflow the stack there; no format read here nests
 * more than a few levels (a steering spec's inline vector: 4).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * `text` parsed; a problem goes to `fail` as one short predicate ("is not valid JSON: …", "nests
 * deeper than 64 levels") for the caller to put after its subject, in its typed error.
 */
export function parseJson(text: string, maxChars: number, fail: (problem: string) => Error): unknown {
  if (text.length > maxChars) throw fail(`is ${text.length} characters long, over the ${maxChars}-character limit`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's messages quote at most a few characters of the text; the cut is a second guard.
    const message = (err as Error).message.replace(/\s+/g, ' '); // one line, whatever text it quotes
    throw fail(`is not valid JSON: ${message.length > 120 ? `${message.slice(0, 119)}…` : message}`);
  }
  checkJsonDepth(value, MAX_JSON_DEPTH, fail);
  return value;
}

/** Fails if `value` nests arrays/objects more than `maxDepth` levels deep; iterative, so any depth is safe to check. */
export function checkJsonDepth(value: unknown, maxDepth: number, fail: (problem: string) => Error): void {
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v !== 'object' || v === null) continue;
    if (depth === maxDepth) throw fail(`nests deeper than ${maxDepth} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
}
