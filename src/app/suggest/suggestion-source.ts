/**
 * Where ghost text comes from. The editor asks with the text before the cursor and an AbortSignal,
 * and shows each piece as it arrives; aborting must stop the work at its source (for the model
 * server: closing the request, which frees its batch slot).
 */
export interface SuggestionSource {
  suggest(textBefore: string, signal: AbortSignal): AsyncIterable<string>;
}
