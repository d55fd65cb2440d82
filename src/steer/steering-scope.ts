/**
 * Which positions of a row a spec steers. Positions are absolute (0 = BOS). "prompt" is the
 * prompt's tokens, "generated" the tokens the model wrote and is fed back (so the first sampled
 * token is shaped only by prompt-scope edits); "after" starts at the token that follows the first
 * occurrence of the marker text, found in the prompt or, as it streams, in the generated text.
 */
import { StreamingTokenDecoder } from '../model/utf8-stream-decoder.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { SteeringScope } from './steering-spec.js';

export class ScopeTracker {
  /** First steered position, for "after": +∞ until the marker has been seen. */
  private markerEnd = Number.POSITIVE_INFINITY;
  private text = '';
  private tokens = 0;
  private readonly decoder: StreamingTokenDecoder | undefined;

  constructor(
    readonly scope: SteeringScope,
    readonly promptLength: number,
    tokenizer: Tokenizer,
    prompt: readonly number[],
  ) {
    if (scope.kind === 'after') {
      this.decoder = new StreamingTokenDecoder(tokenizer);
      for (const id of prompt) this.observe(id);
    }
  }

  /** Records the next token of the row (prompt tokens first, then each generated one). */
  observe(token: number): void {
    this.tokens++;
    if (!this.decoder || this.scope.kind !== 'after' || this.markerEnd !== Number.POSITIVE_INFINITY) return;
    this.text += this.decoder.push(token);
    if (this.text.includes(this.scope.marker)) this.markerEnd = this.tokens;
    // Only the tail can still start a match; keep the text short on long generations.
    else if (this.text.length > 4 * this.scope.marker.length + 64) this.text = this.text.slice(-this.scope.marker.length);
  }

  /** Whether the token at absolute position `pos` is steered. */
  active(pos: number): boolean {
    switch (this.scope.kind) {
      case 'all':
        return true;
      case 'prompt':
        return pos < this.promptLength;
      case 'generated':
        return pos >= this.promptLength;
      case 'range':
        return pos >= this.scope.start && pos < this.scope.end;
      case 'after':
        return pos >= this.markerEnd;
    }
  }
}
