/**
 * The one place stored media is deleted, when a person's data is erased (inbox/data-rights.ts) and when messages
 * age out (retention in pipeline/sweep.ts). The worker keeps each downloaded item under `<message id>/<index>`
 * (pipeline/understand-media.ts), so a message's files go with its id, whatever the store (MEDIA_DIR or S3).
 */
import type { MediaStore } from '../media/store.js';

export interface MediaReference {
  messageId: string;
  /** The provider's reference or URL, as in the message's payload (domain/content.ts MediaItem.reference). */
  reference: string;
}

/** The media items of stored message payloads (`{ content: { type: 'media', items } }`). */
export function mediaReferencesOf(
  messages: Array<{ id: string; payload: Record<string, unknown> | null }>,
): MediaReference[] {
  return messages.flatMap((message) => {
    const content = message.payload?.content as { type?: unknown; items?: unknown } | undefined;
    if (content?.type !== 'media' || !Array.isArray(content.items)) return [];
    return content.items.flatMap((item: unknown) => {
      const reference = (item as { reference?: unknown } | null)?.reference;
      return typeof reference === 'string' ? [{ messageId: message.id, reference }] : [];
    });
  });
}

/**
 * Deletes our stored copies of these messages' media; returns how many files went. Called before the rows that
 * reference them are deleted, so a failure leaves the rows (and the next run retries) rather than orphaned files.
 * Without a store (a tool or test that composed none) there is nothing of ours to delete.
 */
export async function eraseMediaOf(
  store: MediaStore | undefined,
  references: MediaReference[],
): Promise<number> {
  if (!store || references.length === 0) return 0;
  return store.removeMessages([...new Set(references.map((reference) => reference.messageId))]);
}
