/**
 * Splits a corpus into documents: on GPT-style `<|endoftext|>` separators when the text has them
 * (the TinyStories train split), otherwise on blank lines (the validation excerpt's layout).
 */
export function splitDocuments(text: string): string[] {
  const parts = text.includes('<|endoftext|>') ? text.split('<|endoftext|>') : text.split(/\n\s*\n/);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}
