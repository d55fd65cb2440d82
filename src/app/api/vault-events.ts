/** Changes other programs make to the vault, as the server's watcher reports them (server-sent events). */
import { VaultEvent } from '../../vault/vault-api.js';

/** Call `onEvent` for each change; EventSource reconnects by itself after the server restarts. Returns the stop function. */
export function watchVault(onEvent: (e: VaultEvent) => void): () => void {
  const source = new EventSource('/api/vault/events');
  source.onmessage = (m: MessageEvent<string>) => {
    const parsed = VaultEvent.safeParse(JSON.parse(m.data));
    if (parsed.success) onEvent(parsed.data);
  };
  return () => source.close();
}
