/** Note file names, shared by the server and the page (no Node imports here). */
export const NOTE_EXTENSION = '.md';

/** The note's name as the writer sees it: the file name without `.md`. */
export function noteTitle(rel: string): string {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return name.toLowerCase().endsWith(NOTE_EXTENSION) ? name.slice(0, -NOTE_EXTENSION.length) : name;
}
