/**
 * The one place stored media is deleted, when a person's data is erased (inbox/data-rights.ts) and when messages
 * age out (retention in pipeline/sweep.ts). Today nothing is stored: inbound media stay at the provider (Twilio's
 * MediaUrl, Meta's media id) and outbound media are public URLs we were given, so there is nothing of ours to
 * delete. Issue #15 (MEDIA_DIR / S3) fills `eraseMediaOf`; its callers already pass every reference first.
 */
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
 * Deletes our stored copies of these media; returns how many files went. Called before the rows that reference
 * them are deleted, so a failure leaves the rows (and the next run retries) rather than orphaned files.
 */
export function eraseMediaOf(_references: MediaReference[]): Promise<number> {
  // No media store yet (issue #15): nothing of ours to delete.
  return Promise.resolve(0);
}
