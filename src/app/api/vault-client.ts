/**
 * The page's side of the vault API: one typed function per route, each response parsed with the
 * same zod schema the server validates with (src/vault/vault-api.ts). Failures are ApiError with
 * the server's one-line message; a stale save is a ConflictError carrying both versions.
 */
import type * as z from 'zod';
import {
  ApiError as ApiErrorBody,
  ConflictBody,
  FolderCreated,
  HistoryList,
  Note,
  Renamed,
  Saved,
  SearchResults,
  Settings,
  TreeFolder,
  Trashed,
  TrashDeleted,
  TrashList,
  TrashRestored,
  VersionText,
  type SaveNoteBody,
} from '../../vault/vault-api.js';
import { CardsOfNote, type NoteCards } from '../../vault/note-cards-api.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ConflictError extends ApiError {
  constructor(readonly conflict: ConflictBody) {
    super(409, conflict.error.message);
  }
}

async function call<S extends z.ZodType>(schema: S, method: string, url: string, body?: unknown, init: RequestInit = {}): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'the app server is not reachable');
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    if (res.status === 409) {
      const conflict = ConflictBody.safeParse(json);
      if (conflict.success) throw new ConflictError(conflict.data);
    }
    const err = ApiErrorBody.safeParse(json);
    throw new ApiError(res.status, err.success ? err.data.error.message : `${method} ${url}: HTTP ${res.status}`);
  }
  return schema.parse(json);
}

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString();

export const api = {
  tree: () => call(TreeFolder, 'GET', '/api/vault/tree'),
  read: (path: string) => call(Note, 'GET', `/api/vault/note?${q({ path })}`),
  /** `keepalive` lets a save started as the page closes finish after it is gone. */
  save: (body: SaveNoteBody, keepalive = false) => call(Saved, 'PUT', '/api/vault/note', body, { keepalive }),
  create: (path: string, text = '') => call(Saved, 'POST', '/api/vault/note', { path, text }),
  createFolder: (path: string) => call(FolderCreated, 'POST', '/api/vault/folder', { path }),
  rename: (from: string, to: string) => call(Renamed, 'POST', '/api/vault/rename', { from, to }),
  trash: (path: string) => call(Trashed, 'POST', '/api/vault/trash', { path }),
  trashList: () => call(TrashList, 'GET', '/api/vault/trash'),
  /** A 409 ApiError when something lives at the entry's old place now, unless `freeName`. */
  trashRestore: (id: string, freeName = false) => call(TrashRestored, 'POST', '/api/vault/trash/restore', { id, freeName }),
  trashDelete: (id: string) => call(TrashDeleted, 'POST', '/api/vault/trash/delete', { id }),
  trashEmpty: () => call(TrashDeleted, 'POST', '/api/vault/trash/empty', {}),
  history: (path: string) => call(HistoryList, 'GET', `/api/vault/history?${q({ path })}`),
  version: (path: string, id: string) => call(VersionText, 'GET', `/api/vault/history/version?${q({ path, id })}`),
  restore: (path: string, id: string, baseHash: string | null) => call(Note, 'POST', '/api/vault/history/restore', { path, id, baseHash }),
  cards: (path: string) => call(CardsOfNote, 'GET', `/api/vault/cards?${q({ path })}`),
  saveCards: (path: string, cards: NoteCards) => call(CardsOfNote, 'PUT', '/api/vault/cards', { path, cards }),
  search: (query: string) => call(SearchResults, 'GET', `/api/vault/search?${q({ q: query })}`),
  settings: () => call(Settings, 'GET', '/api/settings'),
  saveSettings: (s: Settings) => call(Settings, 'PUT', '/api/settings', s),
};
