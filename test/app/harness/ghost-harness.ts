/**
 * A page for testing the ghostText() extension in a real browser: the editor as the app builds it
 * (markdown, history, keymaps, optionally vim first), with a SuggestionSource whose pieces the test
 * supplies through `window.harness`. This is the source interface's other implementation, not a
 * stand-in for the model server (whose end-to-end test drives the app itself).
 */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { drawSelection, EditorView, keymap } from '@codemirror/view';
import { vim } from '@replit/codemirror-vim';
import { editorTheme } from '../../../src/app/editor/editor-theme.js';
import { ghostField, ghostText, rerunSuggestion } from '../../../src/app/editor/ghost-text.js';
import { livePreview } from '../../../src/app/editor/live-preview.js';
import type { SuggestionSource } from '../../../src/app/suggest/suggestion-source.js';
import { applyTheme } from '../../../src/app/theme/apply-theme.js';

interface Request {
  textBefore: string;
  aborted: boolean;
  pieces: string[];
  ended: boolean;
  wake?: () => void;
}

const requests: Request[] = [];

const source: SuggestionSource = {
  async *suggest(textBefore, signal) {
    const r: Request = { textBefore, aborted: false, pieces: [], ended: false };
    requests.push(r);
    signal.addEventListener('abort', () => {
      r.aborted = true;
      r.wake?.();
    });
    for (;;) {
      while (r.pieces.length > 0) yield r.pieces.shift() as string;
      if (r.ended || r.aborted) return;
      await new Promise<void>((resolve) => (r.wake = resolve));
    }
  },
};

const params = new URLSearchParams(location.search);
applyTheme((params.get('theme') as 'light' | 'dark' | 'contrast' | null) ?? 'light', 19);
const nonce = document.querySelector<HTMLMetaElement>('meta[name=csp-nonce]')?.content ?? '';
const parent = document.getElementById('editor') as HTMLElement;

function makeView(doc: string): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      selection: { anchor: doc.length },
      extensions: [
        params.has('vim') ? vim() : [],
        ghostText({ source, pauseMs: Number(params.get('pause') ?? 100) }),
        history(),
        drawSelection(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        livePreview(),
        editorTheme,
        EditorView.cspNonce.of(nonce),
      ],
    }),
  });
}

let view = makeView('');

const harness = {
  /** Start over with `doc`, the cursor at its end (or at `cursor`). */
  reset(doc: string, cursor = doc.length): void {
    view.destroy();
    view = makeView(doc);
    view.dispatch({ selection: { anchor: cursor } });
    view.focus();
  },
  push(text: string, index = requests.length - 1): void {
    requests[index].pieces.push(text);
    requests[index].wake?.();
  },
  end(index = requests.length - 1): void {
    requests[index].ended = true;
    requests[index].wake?.();
  },
  requests: () => requests.map((r) => ({ textBefore: r.textBefore, aborted: r.aborted })),
  doc: () => view.state.doc.toString(),
  cursor: () => view.state.selection.main.head,
  ghost: () => view.state.field(ghostField)?.text ?? null,
  rerun: () => rerunSuggestion(view),
};

Object.assign(window, { harness });
