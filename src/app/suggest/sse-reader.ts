/**
 * The `data` of each event in a Server-Sent Events stream (WHATWG HTML §9.2.6, "Interpreting an
 * event stream"): lines end in CRLF, LF or CR; a blank line ends an event; `data:` lines (one
 * optional space after the colon removed) are joined with "\n"; comment lines (":…") and other
 * fields are skipped; an event with no data is not dispatched, nor is an unfinished one at the end.
 */
export async function* sseData(body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let sawCr = false;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    // A CR at the end of the previous chunk already ended its line: a LF starting this one is its pair.
    if (sawCr && buffer.startsWith('\n')) buffer = buffer.slice(1);
    sawCr = false;
    let lineEnd: RegExpExecArray | null;
    const ends = /\r\n|\r|\n/g;
    let consumed = 0;
    while ((lineEnd = ends.exec(buffer)) !== null) {
      if (lineEnd[0] === '\r' && lineEnd.index === buffer.length - 1) sawCr = true;
      const line = buffer.slice(consumed, lineEnd.index);
      consumed = lineEnd.index + lineEnd[0].length;
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data')) {
        const field = fieldValue(line, 'data');
        if (field !== undefined) data.push(field);
      }
    }
    buffer = buffer.slice(consumed);
  }
}

/** The value of `line` when its field name is exactly `name` ("data:x", "data: x", or "data" alone). */
function fieldValue(line: string, name: string): string | undefined {
  if (line === name) return '';
  if (line[name.length] !== ':') return undefined;
  const value = line.slice(name.length + 1);
  return value.startsWith(' ') ? value.slice(1) : value;
}
