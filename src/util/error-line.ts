/**
 * A foreign library's error (a parser's, a template engine's) as one short line to put inside a
 * typed error's message: its own messages may span lines or quote a whole input.
 */
export function errorLine(e: unknown, maxChars: number): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
  return message.length > maxChars ? `${message.slice(0, maxChars - 1)}…` : message;
}
