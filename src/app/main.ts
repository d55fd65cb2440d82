/**
 * The writing app's page: wires the note tree, the editor, the side panels and the status line to
 * the vault API. `/?note=PATH` opens that note (a deep link); without one, the first note opens.
 */
import './styles/app.css';
import type { Settings } from '../vault/vault-api.js';
import { LinkResolver } from '../vault/wikilinks.js';
import { api, ApiError } from './api/vault-client.js';
import { watchVault } from './api/vault-events.js';
import { wordCounts } from './editor/word-count.js';
import { FeatureBrowser } from './features/feature-browser.js';
import { WhatFiresToggle } from './features/what-fires-toggle.js';
import { NoteEditor } from './notes/note-editor.js';
import { steerWith } from './steer/steering-controller.js';
import { applyTheme } from './theme/apply-theme.js';
import { announce } from './ui/announcer.js';
import { hideConflict, showConflict } from './ui/conflict-view.js';
import { askText, confirmAction } from './ui/dialogs.js';
import { byId } from './ui/dom.js';
import { installGlobalShortcuts } from './ui/global-shortcuts.js';
import { HistoryPanel } from './ui/history-panel.js';
import { NoteTree } from './ui/note-tree.js';
import { OutlinePanel } from './ui/outline-panel.js';
import { RelatedPanel } from './ui/related-panel.js';
import { StylePanel } from './ui/style-panel.js';
import { RelatedContext } from './suggest/related-context.js';
import { withVector } from './steer/steering-spec-edit.js';
import { SearchPanel } from './ui/search-panel.js';
import { SettingsPanel } from './ui/settings-panel.js';
import { connectSteering } from './steer/steering-controller.js';
import { describeSteering } from './steer/steering-spec-edit.js';
import { SteeringPanel } from './ui/steering-panel.js';
import type { CommandName } from './ui/shortcuts.js';
import { SidePanel } from './ui/side-panel.js';
import { StatusBar } from './ui/status-bar.js';
import { TrashPanel } from './ui/trash-panel.js';

applyTheme('system', 19);
let settings: Settings = await api.settings();
const status = new StatusBar();
const panel = new SidePanel(() => editor.view.focus());
const tree = new NoteTree(byId('tree'), { open: (p) => void openNote(p), rename: (p) => void renameEntry(p), trash: (p, k) => void trashEntry(p, k) });
let suggestionError: string | null = null;
const relatedContext = new RelatedContext();

const editor = new NoteEditor(byId('editor'), settings, {
  onUpdate(ed) {
    status.setSave(ed.path ? ed.status : null);
    const { words, selected } = wordCounts(ed.view.state);
    status.setWords(words, selected);
  },
  onConflict(c) {
    announce('This note changed on disk while you were writing. Choose which version to keep.');
    showConflict(c, (choice) => void editor.resolveConflict(choice).then(() => editor.view.focus()));
  },
  followLink: (target) => void followLink(target),
  announce,
  onSuggestionError(message) {
    suggestionError = message;
    showSuggestionState();
  },
  suggestionPreamble: () => relatedContext.excerpt,
});

const search = new SearchPanel((p) => void openNote(p));
const outlinePanel = new OutlinePanel(() => editor.view, () => panel.close());
const historyPanel = new HistoryPanel(() => editor.path, restoreVersion);
const settingsPanel = new SettingsPanel(() => settings, (s) => void changeSettings(s));
const steeringPanel = new SteeringPanel(() => settings, changeSteering, () => void panel.show(stylePanel));
connectSteering({ settings: () => settings, change: changeSteering });

/** A steering (or temperature, seed) change: applied, saved, and the suggestion on screen asked for again with it. */
function changeSteering(s: Settings): Promise<void> {
  const saved = changeSettings(s);
  editor.rerunSuggestion();
  return saved;
}
const trashPanel = new TrashPanel({
  async restored(path, kind) {
    await refreshTree();
    if (kind === 'note') await openNote(path, false);
  },
  refresh: () => void panel.show(trashPanel),
  announce,
});
const relatedPanel = new RelatedPanel(() => editor.path, (p) => void openNote(p));
const stylePanel = new StylePanel(
  () => (editor.path?.includes('/') ? editor.path.slice(0, editor.path.lastIndexOf('/')) : ''),
  (name, strength) => changeSteering({ ...settings, steering: { ...settings.steering, spec: withVector(settings.steering.spec, { vector: name, strength }) } }),
);

/** Keeps the related note's excerpt for suggestions while the option is on. */
function followRelated(): void {
  if (settings.suggestions.relatedContext) void relatedContext.follow(editor.path);
  else relatedContext.stop();
}
const featureBrowser = new FeatureBrowser({ announce, steerWith });

const whatFires = new WhatFiresToggle({
  editor,
  spec: () => settings.steering.spec,
  openFeature(source, index) {
    featureBrowser.openFeature(source, index);
    void panel.show(featureBrowser);
  },
  announce,
  button: byId('btn-what-fires'),
});

function applySettings(): void {
  applyTheme(settings.theme, settings.textSize);
  document.body.dataset.tree = settings.showTree ? 'shown' : 'hidden';
  showSuggestionState();
}

function showSuggestionState(): void {
  const s = settings.suggestions;
  const text = !s.enabled ? 'Suggestions off' : suggestionError ? 'Suggestions unavailable' : `Suggestions · seed ${s.seed}`;
  status.setSuggestions(text);
  status.setSteering(s.enabled ? describeSteering(settings.steering.spec) : null);
  byId('status-suggest').title = suggestionError ?? '';
}

let settingsSaved: Promise<unknown> = Promise.resolve();

async function changeSettings(s: Settings): Promise<void> {
  const relatedChanged = s.suggestions.relatedContext !== settings.suggestions.relatedContext;
  settings = s;
  if (relatedChanged) followRelated();
  suggestionError = null;
  applySettings();
  editor.applySettings(s);
  whatFires.settingsChanged();
  // One save after another (a slider makes several), so the file ends with the last change; the
  // server's copy replaces the page's only while no newer change has been made.
  const save = settingsSaved.then(() => api.saveSettings(s));
  settingsSaved = save.catch(() => undefined);
  const saved = await save;
  if (settings === s) settings = saved;
}

async function refreshTree(): Promise<void> {
  tree.setTree(await api.tree());
}

async function openNote(path: string, focus = true): Promise<void> {
  try {
    await editor.open(path);
  } catch (e) {
    announce(e instanceof ApiError ? e.message : String(e));
    return;
  }
  hideConflict();
  showNote(editor.path);
  if (panel.openPanel === outlinePanel || panel.openPanel === historyPanel || panel.openPanel === relatedPanel) void panel.show(panel.openPanel);
  followRelated();
  if (focus) editor.view.focus();
}

function showNote(path: string | null): void {
  tree.setActive(path);
  status.setNote(path);
  document.body.dataset.note = path ? 'open' : 'none';
  document.title = path ? `${path.replace(/\.md$/i, '').split('/').pop()} — tinymorph` : 'tinymorph';
  history.replaceState(null, '', path ? `/?note=${encodeURIComponent(path)}` : '/');
}

/** "Ideas/first draft" → "Ideas/first draft.md": the writer names notes, the disk wants the extension. */
function asNotePath(name: string): string {
  const clean = name.trim().replace(/^\/+/, '');
  return /\.md$/i.test(clean) ? clean : `${clean}.md`;
}

async function newNote(): Promise<void> {
  const folder = tree.currentFolder();
  const name = await askText({ title: 'New note', label: 'Name', value: folder ? `${folder}/` : '', okLabel: 'Create', hint: 'Use / to put it in a folder, e.g. Ideas/Chapter one.' });
  if (!name) return editor.view.focus();
  try {
    const { path } = await api.create(asNotePath(name));
    await refreshTree();
    await openNote(path);
  } catch (e) {
    announce(e instanceof ApiError ? e.message : String(e));
  }
}

async function newFolder(): Promise<void> {
  const name = await askText({ title: 'New folder', label: 'Name', value: tree.currentFolder() ? `${tree.currentFolder()}/` : '', okLabel: 'Create' });
  if (!name) return;
  try {
    await api.createFolder(name.replace(/^\/+|\/+$/g, ''));
    await refreshTree();
  } catch (e) {
    announce(e instanceof ApiError ? e.message : String(e));
  }
}

async function renameEntry(path: string | null = editor.path): Promise<void> {
  if (!path) return;
  const isNote = /\.md$/i.test(path);
  const shown = isNote ? path.slice(0, -3) : path;
  const to = await askText({
    title: isNote ? 'Rename note' : 'Rename folder',
    label: 'New name',
    value: shown,
    okLabel: 'Rename',
    hint: 'Change the folders to move it. Links to it are updated.',
    select: [shown.lastIndexOf('/') + 1, shown.length],
  });
  if (!to || to === shown) return;
  try {
    await editor.flush();
    const r = await api.rename(path, isNote ? asNotePath(to) : to);
    await editor.renamed(r.moved, r.updated);
    await refreshTree();
    showNote(editor.path);
    announce(r.updated.length ? `Renamed; links updated in ${r.updated.length} ${r.updated.length === 1 ? 'note' : 'notes'}.` : 'Renamed.');
  } catch (e) {
    announce(e instanceof ApiError ? e.message : String(e));
  }
}

async function trashEntry(path: string, kind: 'note' | 'folder'): Promise<void> {
  const ok = await confirmAction({ title: kind === 'note' ? 'Move note to trash?' : 'Move folder to trash?', message: `“${path}” goes to the vault's .trash folder; the Trash panel (Alt+T) can restore it.`, okLabel: 'Move to trash' });
  if (!ok) return;
  try {
    await editor.flush();
    await api.trash(path);
    if (editor.path && (editor.path === path || editor.path.startsWith(`${path}/`))) {
      editor.close();
      showNote(null);
    }
    await refreshTree();
    tree.focus();
  } catch (e) {
    announce(e instanceof ApiError ? e.message : String(e));
  }
}

async function followLink(target: string): Promise<void> {
  const path = new LinkResolver(tree.notePaths()).resolve(target);
  if (path) return openNote(path);
  // As in Obsidian, a link to a note that does not exist yet creates it.
  const created = await api.create(asNotePath(target));
  await refreshTree();
  await openNote(created.path);
}

async function restoreVersion(path: string, id: string): Promise<void> {
  await editor.flush();
  // Restoring is deliberate: it replaces whatever the disk has now (which the server keeps in the history first).
  const note = await api.restore(path, id, await currentHash(path));
  panel.close();
  await openNote(note.path);
  announce('Version restored. The text it replaced is in the history too.');
}

async function currentHash(path: string): Promise<string> {
  return (await api.read(path)).hash;
}

function run(command: CommandName): boolean {
  switch (command) {
    case 'newNote':
      void newNote();
      return true;
    case 'newFolder':
      void newFolder();
      return true;
    case 'rename':
      void renameEntry();
      return true;
    case 'focusTree':
      if (!settings.showTree) void changeSettings({ ...settings, showTree: true });
      tree.focus();
      return true;
    case 'toggleTree':
      void changeSettings({ ...settings, showTree: !settings.showTree });
      return true;
    case 'searchVault':
      void panel.show(search);
      return true;
    case 'outline':
      void panel.toggle(outlinePanel);
      return true;
    case 'history':
      void panel.toggle(historyPanel);
      return true;
    case 'settings':
      void panel.toggle(settingsPanel);
      return true;
    case 'steering':
      void panel.toggle(steeringPanel);
      return true;
    case 'marginNotes':
      if (!editor.path) return false;
      // From the status-line button too: Tab from the text then reaches the cards.
      editor.view.focus();
      void editor.showMarginNotes();
      return true;
    case 'trash':
      void panel.toggle(trashPanel);
      return true;
    case 'related':
      void panel.toggle(relatedPanel);
      return true;
    case 'styleFromNotes':
      void panel.toggle(stylePanel);
      return true;
    case 'features':
      void panel.toggle(featureBrowser);
      return true;
    case 'whatFires':
      whatFires.toggle();
      return true;
    case 'focusEditor':
      if (panel.openPanel) panel.close();
      else if (editor.path) editor.view.focus();
      else return false;
      return true;
  }
}

installGlobalShortcuts(run);
for (const [id, command] of [
  ['btn-new-note', 'newNote'],
  ['btn-search', 'searchVault'],
  ['btn-outline', 'outline'],
  ['btn-history', 'history'],
  ['btn-settings', 'settings'],
  ['btn-steering', 'steering'],
  ['btn-margin', 'marginNotes'],
  ['btn-trash', 'trash'],
  ['btn-related', 'related'],
  ['btn-features', 'features'],
  ['btn-what-fires', 'whatFires'],
] as const) {
  byId(id).addEventListener('click', () => run(command));
}

let treeTimer: ReturnType<typeof setTimeout> | undefined;
watchVault((e) => {
  if (e.type === 'tree') {
    clearTimeout(treeTimer);
    treeTimer = setTimeout(() => void refreshTree(), 150);
  } else {
    void editor.externalChange(e);
  }
});

// Leaving the page (closing the tab, switching away): save what is unsaved, even as the page goes.
window.addEventListener('pagehide', () => void editor.save(true));
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void editor.save(true);
});

applySettings();
await refreshTree();
const wanted = new URLSearchParams(location.search).get('note');
const first = tree.notePaths();
const start = wanted ?? (first.includes('Welcome.md') ? 'Welcome.md' : first[0]);
if (start) await openNote(start);
else showNote(null);
