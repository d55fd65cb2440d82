import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainOnEmbedded } from './embedded-training.js';

test('topk SAE on the embedded model\'s blocks.2.hook_resid_post: 100k tokens reach explained variance > 0.7', () => {
  const { trainer, last, ev } = trainOnEmbedded('topk', 0);
  console.log(`embedded topk: ${trainer.tokens} tokens, explained variance (mean of last 10 batches) ${ev.toFixed(4)}, L0 ${last.l0}, dead ${last.deadFraction}`);
  assert.ok(ev > 0.7, `explained variance ${ev}`);
  assert.ok(last.l0 <= 16);
});
