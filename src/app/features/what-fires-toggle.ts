/**
 * The page's "what fires here" switch: turns the editor extension (editor/what-fires.ts) on and off
 * and rebuilds it when the vault's steering changes, since the features it watches are the ones
 * steered with (those of the first SAE the spec names), else the paragraph's top features.
 */
import { whatFires } from '../editor/what-fires.js';
import type { NoteEditor } from '../notes/note-editor.js';
import { featureEntries, type SteeringSpecJson } from '../steer/steering-spec-edit.js';
import { features } from './features-client.js';

export interface WhatFiresHost {
  editor: NoteEditor;
  spec(): SteeringSpecJson;
  openFeature(source: string, index: number): void;
  announce(message: string): void;
  /** The toolbar button whose aria-pressed shows the state. */
  button: HTMLElement;
}

export class WhatFiresToggle {
  private on = false;
  private watching = '';

  constructor(private readonly host: WhatFiresHost) {}

  toggle(): void {
    this.on = !this.on;
    this.host.button.setAttribute('aria-pressed', String(this.on));
    if (this.on) this.configure();
    else this.host.editor.setWhatFires([]);
    this.host.announce(this.on ? 'What fires here: on. Marks follow the paragraph at the cursor; hover a word, or press Alt+Shift+I, for its features.' : 'What fires here: off.');
  }

  /** After a settings change: watch the newly steered features, if they changed. */
  settingsChanged(): void {
    if (this.on && JSON.stringify(this.host.spec()) !== this.watching) this.configure();
  }

  private configure(): void {
    const spec = this.host.spec();
    this.watching = JSON.stringify(spec);
    const entries = featureEntries(spec);
    const source = entries[0]?.source;
    const chosen = entries.filter((e) => e.source === source).map((e) => e.index);
    this.host.editor.setWhatFires(
      whatFires({
        explain: (text, signal) => features.explain(text, { perToken: 5, top: 10, chosen, source }, signal),
        chosen,
        openFeature: (s, index) => this.host.openFeature(s, index),
        onError: (message) => this.host.announce(message),
      }),
    );
  }
}
