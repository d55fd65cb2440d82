/**
 * The vault API's one typed description: every request body, query and response the server sends or
 * accepts, as zod schemas. The server validates with them and the page (bundled from the same file)
 * parses responses with them, so a field renamed on one side fails the type-check on the other.
 * Nothing here may import Node modules: this file runs in the browser too.
 */
import * as z from 'zod';

/** A vault-relative path with `/` separators, as the page names notes and folders ("Ideas/First.md"). */
export const VaultPath = z.string().min(1).max(1024);

/** A note's content hash (hex SHA-256 of its UTF-8 bytes): what the page edited from, for conflict checks. */
export const ContentHash = z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256');

export const PathQuery = z.object({ path: VaultPath });

export const Note = z.object({ path: VaultPath, text: z.string(), hash: ContentHash });
export type Note = z.infer<typeof Note>;

export const SaveNoteBody = z.object({
  path: VaultPath,
  text: z.string(),
  /** Hash of the version the page edited from; null when the page created the note and never saw a disk version. */
  baseHash: ContentHash.nullable(),
});
export type SaveNoteBody = z.infer<typeof SaveNoteBody>;

export const Saved = z.object({ path: VaultPath, hash: ContentHash });
export type Saved = z.infer<typeof Saved>;

export const CreateNoteBody = z.object({ path: VaultPath, text: z.string().default('') });
export const CreateFolderBody = z.object({ path: VaultPath });
export const FolderCreated = z.object({ path: VaultPath });
export const RenameBody = z.object({ from: VaultPath, to: VaultPath });
export const Renamed = z.object({
  path: VaultPath,
  /** Old path → new path of every note that moved (one for a note, all notes inside for a folder). */
  moved: z.array(z.object({ from: VaultPath, to: VaultPath })),
  /** Notes whose [[wikilinks]] were rewritten to follow the rename. */
  updated: z.array(VaultPath),
});
export type Renamed = z.infer<typeof Renamed>;

export const TrashBody = z.object({ path: VaultPath });
export const Trashed = z.object({ path: VaultPath, trashedTo: z.string() });

/**
 * One item in the vault's trash: `id` is its path inside `.trash/` (what restore and delete name),
 * `path` where it was when trashed, `trashedAt` when (ms since the epoch).
 */
export const TrashEntry = z.object({
  id: VaultPath,
  path: VaultPath,
  trashedAt: z.number(),
  kind: z.enum(['note', 'folder']),
  /** Notes inside (1 for a note) and their total size in bytes. */
  notes: z.number(),
  bytes: z.number(),
});
export type TrashEntry = z.infer<typeof TrashEntry>;
export const TrashList = z.object({ entries: z.array(TrashEntry) });
export const TrashIdBody = z.object({ id: VaultPath });
/** Restore a trash entry to where it was; `freeName` restores it beside whatever lives there now ("Note (restored).md"). */
export const TrashRestoreBody = z.object({ id: VaultPath, freeName: z.boolean().default(false) });
export const TrashRestored = z.object({ id: VaultPath, path: VaultPath, moved: z.array(z.object({ from: z.string(), to: VaultPath })) });
export const TrashDeleted = z.object({ deleted: z.array(VaultPath) });

export interface TreeNote {
  kind: 'note';
  path: string;
  name: string;
}
export interface TreeFolder {
  kind: 'folder';
  path: string;
  name: string;
  children: (TreeFolder | TreeNote)[];
}
export const TreeNote: z.ZodType<TreeNote> = z.object({ kind: z.literal('note'), path: z.string(), name: z.string() });
export const TreeFolder: z.ZodType<TreeFolder> = z.lazy(() =>
  z.object({ kind: z.literal('folder'), path: z.string(), name: z.string(), children: z.array(z.union([TreeFolder, TreeNote])) }),
);

export const HistoryVersion = z.object({
  id: z.string(),
  savedAt: z.number(),
  hash: z.string(),
  bytes: z.number(),
  /**
   * 'save': written by the app; 'disk': found on disk (the first version, or another program's
   * change); 'restore': a restored version; 'conflict': the writer's text from a save refused because
   * the note had changed on disk (kept, so that resolving a conflict either way loses nothing).
   */
  source: z.enum(['save', 'disk', 'restore', 'conflict']),
});
export type HistoryVersion = z.infer<typeof HistoryVersion>;
export const HistoryList = z.object({ path: VaultPath, versions: z.array(HistoryVersion) });
export const VersionQuery = z.object({ path: VaultPath, id: z.string().max(200) });
export const VersionText = z.object({ path: VaultPath, id: z.string(), text: z.string() });
export const RestoreBody = z.object({ path: VaultPath, id: z.string().max(200), baseHash: ContentHash.nullable() });

export const SearchQuery = z.object({ q: z.string().max(500), limit: z.coerce.number().int().min(1).max(200).default(50) });
/** In `snippet`, matched words sit between SNIPPET_MARK_START and SNIPPET_MARK_END (control characters, never HTML). */
export const SearchHit = z.object({ path: VaultPath, title: z.string(), snippet: z.string() });
export type SearchHit = z.infer<typeof SearchHit>;
export const SearchResults = z.object({ query: z.string(), hits: z.array(SearchHit), ms: z.number() });
export const SNIPPET_MARK_START = '\u0002';
export const SNIPPET_MARK_END = '\u0003';

/** What the file watcher tells the page (server-sent events on /api/vault/events): changes made by other programs only. */
export const VaultEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('changed'), path: VaultPath, hash: ContentHash }),
  z.object({ type: z.literal('removed'), path: VaultPath }),
  z.object({ type: z.literal('tree') }),
]);
export type VaultEvent = z.infer<typeof VaultEvent>;

export const THEMES = ['system', 'light', 'dark', 'contrast'] as const;
export type ThemeName = (typeof THEMES)[number];

/**
 * The vault's steering (the steering panel's state): `spec` is exactly the `steering` field the model
 * server takes (src/steer/steering-spec.ts; the server validates it when a request carries it), so
 * anything the panel does a script can do with the same JSON. `labels` names the features the panel
 * shows, by "source#index", so the panel need not ask the server for each label on load.
 */
export const SteeringPanel = z.object({
  spec: z.record(z.string(), z.unknown()).default({}),
  labels: z.record(z.string(), z.string()).default({}),
});
export type SteeringPanel = z.infer<typeof SteeringPanel>;

/** The writer's settings, stored in `.tinymorph/settings.json`; every field has a default so an empty file is valid. */
export const Settings = z.object({
  theme: z.enum(THEMES).default('system'),
  /** Text size in CSS pixels. */
  textSize: z.number().int().min(14).max(28).default(19),
  vim: z.boolean().default(false),
  showTree: z.boolean().default(true),
  suggestions: z
    .object({
      enabled: z.boolean().default(true),
      /** Pause after the last keystroke before asking the model (the default: 250 ms). */
      pauseMs: z.number().int().min(50).max(5000).default(250),
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
      maxTokens: z.number().int().min(1).max(256).default(24),
      temperature: z.number().min(0).max(2).default(0.8),
      /** Put a short excerpt of the open note's most related note (GET /api/related) before the text in the prompt. */
      relatedContext: z.boolean().default(false),
    })
    .prefault({}),
  steering: SteeringPanel.prefault({}),
});
export type Settings = z.infer<typeof Settings>;

/** OpenAI's error body, which every failed API call returns. */
export const ApiError = z.object({ error: z.object({ message: z.string(), type: z.string(), code: z.string().nullable() }) });

/** The 409 body of a save whose base is stale: the disk version and the writer's, so the page can show both. */
export const ConflictBody = ApiError.extend({ disk: z.object({ text: z.string(), hash: ContentHash }), yours: z.object({ text: z.string() }) });
export type ConflictBody = z.infer<typeof ConflictBody>;
