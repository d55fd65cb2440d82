/**
 * The feature indexes the server answers from, one per SAE, opened once and kept open. An SAE
 * without an index gets one built on first use, as the CLI's query commands do, but on the
 * analysis thread, so running streams go on decoding meanwhile (a shipped SAE's index takes a few
 * seconds); requests for it wait for that one build, which happens once however many ask. Where an
 * index lives is the CLI's rule (index-location.ts: beside the SAE, or in the user's cache), unless
 * the server was given a folder of its own.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_INDEX_TOKENS } from '../sae/feature-index/build-feature-index.js';
import { FeatureIndex } from '../sae/feature-index/feature-index.js';
import { findIndex, newIndexPath } from '../sae/feature-index/index-location.js';
import type { SaeSource } from '../steer/steering-context.js';
import type { AnalysisThread } from './analysis/analysis-thread.js';

export interface FeatureIndexOptions {
  /** Keep indexes here (`<SAE folder name>.sqlite`) instead of where the CLI keeps them. */
  dir?: string;
  /** Corpus tokens an index built on first use runs over; default the CLI's (200k). */
  buildTokens?: number;
}

export class FeatureIndexes {
  /** By SAE folder. */
  private readonly indexes = new Map<string, Promise<FeatureIndex>>();

  constructor(
    private readonly analysis: AnalysisThread,
    private readonly o: FeatureIndexOptions = {},
  ) {}

  /** The index of `source`'s SAE, built first if there is none yet. */
  get(source: SaeSource): Promise<FeatureIndex> {
    let index = this.indexes.get(source.id);
    if (!index) {
      index = this.openOrBuild(source);
      this.indexes.set(source.id, index);
      index.catch(() => this.indexes.delete(source.id)); // a failed build is tried again by the next request
    }
    return index;
  }

  async close(): Promise<void> {
    const open = await Promise.allSettled(this.indexes.values());
    this.indexes.clear();
    for (const r of open) if (r.status === 'fulfilled') r.value.close();
  }

  private async openOrBuild(source: SaeSource): Promise<FeatureIndex> {
    const path = this.o.dir ? join(this.o.dir, `${basename(source.id)}.sqlite`) : (findIndex(source.id) ?? newIndexPath(source.id));
    if (!existsSync(path)) {
      process.stderr.write(`tinymorph serve: ${source.id} has no feature index yet; building one at ${path}\n`);
      await this.analysis.run({ kind: 'build-index', saeDir: source.id, db: path, tokens: this.o.buildTokens ?? DEFAULT_INDEX_TOKENS });
    }
    return FeatureIndex.open(path, { writable: true, sae: source.sae });
  }
}
