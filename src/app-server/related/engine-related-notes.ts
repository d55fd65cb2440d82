/**
 * The related-notes index over the app's model engine: profiles come from the shipped SAE that the
 * feature routes use by default, computed on the engine's analysis thread; labels from that SAE's
 * feature index. The index is made once the model has loaded, and updated in the background after
 * the watcher reports another program's change.
 */
import { DEFAULT_SAE_HOOK } from '../../sae/feature-index/feature-ref.js';
import type { EngineRef } from '../../serve/serve-engine.js';
import type { Vault } from '../../vault/vault.js';
import type { VaultWatcher } from '../../vault/vault-watcher.js';
import { RelatedNotesIndex } from './related-notes-index.js';
import { corpusIdf } from './related-ranking.js';
import type { RelatedNotesSource } from './related-routes.js';

/**
 * Features kept per note: all that fire (a TopK SAE fires k per token, so a note has a few hundred).
 * Keeping only the strongest few dozen lost the weaker topical features the idf weights up: on the
 * two-topic test vault, 48 per note ranked every same-topic note first for 4 of 12 notes, all of them for 12.
 */
const PROFILE_FEATURES = Number.MAX_SAFE_INTEGER;

/** The watcher's changes arrive in bursts (a sync tool, a git checkout): one update after they settle. */
const SETTLE_MS = 2000;

export function engineRelatedNotes(vault: Vault, engines: EngineRef, watcher?: VaultWatcher): RelatedNotesSource {
  let index: RelatedNotesIndex | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  watcher?.subscribe(() => {
    if (!index) return;
    clearTimeout(timer);
    timer = setTimeout(() => void index?.update().catch((e: Error) => process.stderr.write(`tinymorph app: related notes: ${e.message}\n`)), SETTLE_MS);
    timer.unref();
  });
  const sae = () => {
    const e = engines.get();
    return { e, src: e.steering.sae(DEFAULT_SAE_HOOK) };
  };
  return {
    source: DEFAULT_SAE_HOOK,
    index() {
      if (index) return index;
      const { e, src } = sae();
      const idf = src.sae.sparsity ? corpusIdf(src.sae.sparsity) : undefined;
      index = new RelatedNotesIndex(vault, src.id, (texts, onProgress) => e.analysis.run({ kind: 'profile', saeDir: src.id, texts, top: PROFILE_FEATURES }, (p) => onProgress(p.done)), idf);
      return index;
    },
    async labels(features) {
      const { e, src } = sae();
      return (await e.features.get(src)).labels(features);
    },
  };
}
