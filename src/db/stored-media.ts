/**
 * Which stored file a media key names, and what it is (issue #15). The bytes are in the media store; their type,
 * kind and name are recorded beside the key in the message's payload (an inbound item the worker downloaded) or
 * in one of its delivery parts (a voice answer we generated). A key that no message records is not served, so
 * whatever else may sit in the store is never reachable through these routes.
 */
import { sql } from 'drizzle-orm';
import type { MediaItem, MediaKind } from '../domain/content.js';
import { storedContent } from '../domain/content-payload.js';
import { storedKeyOf } from '../domain/display-content.js';
import type { Db } from './connect.js';
import { rowsOf } from './rows.js';

export interface StoredMediaFile {
  key: string;
  /** The type the bytes really had (as downloaded or generated). */
  contentType: string;
  kind: MediaKind;
  filename?: string;
  /** The channel of the conversation it belongs to (the simulator serves only its own). */
  channel: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The media file recorded under `key` (`<message id>/<index>`), or null when no message records it. */
export async function findStoredMedia(db: Db, key: string): Promise<StoredMediaFile | null> {
  const messageId = key.split('/')[0] ?? '';
  if (!UUID.test(messageId)) return null;
  const [row] = rowsOf<{ payload: unknown; content: string; channel: string; parts: unknown }>(
    await db.execute(sql`
      select m.payload, m.content, c.channel,
        coalesce((select json_agg(d.payload) from deliveries d
          where d.message_id = m.id and d.payload is not null), '[]'::json) as parts
      from messages m join conversations c on c.id = m.conversation_id
      where m.id = ${messageId}`),
  );
  if (!row) return null;
  const item = itemsOf(row).find((candidate) => storedKeyOf(candidate) === key);
  if (!item?.stored) return null;
  return {
    key,
    contentType: typeof item.stored.contentType === 'string' ? item.stored.contentType : item.contentType,
    kind: item.kind,
    ...(typeof item.filename === 'string' ? { filename: item.filename } : {}),
    channel: row.channel,
  };
}

function itemsOf(row: { payload: unknown; content: string; parts: unknown }): MediaItem[] {
  const items: MediaItem[] = [];
  const { content } = storedContent(row.payload, row.content);
  if (content.type === 'media') items.push(...content.items);
  // A part's payload is its OutboundContent itself; read through the same checks as a message's content.
  const parts = typeof row.parts === 'string' ? (JSON.parse(row.parts) as unknown) : row.parts;
  for (const part of Array.isArray(parts) ? (parts as unknown[]) : []) {
    const read = storedContent({ content: part }, '');
    if (read.content.type === 'media') items.push(...read.content.items);
  }
  return items;
}
