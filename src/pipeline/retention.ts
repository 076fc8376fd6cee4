/**
 * RETENTION_DAYS, applied by the scheduler's sweep: every message older than that goes (its media first, its
 * delivery parts with it), whatever its conversation's state; then model calls and operators' notes of that age,
 * then the conversations inactive that long with no message left. The audit log is not covered: it is the record
 * of who handled whose data (including these deletions' own trail in the logs), see docs/operations.md.
 */
import type { Db } from '../db/connect.js';
import { PRUNE_BATCHES, type PruneBatches } from '../db/prune.js';
import {
  deleteAgedConversations,
  deleteAgedMessages,
  deleteAgedModelCalls,
  deleteAgedNotes,
} from '../db/retention.js';
import type { MediaStore } from '../media/store.js';
import { eraseMediaOf, mediaReferencesOf } from './media-erasure.js';

/** Rows deleted by one round, per table (and media files from our store). */
export interface RetentionResult {
  messages: number;
  modelCalls: number;
  notes: number;
  conversations: number;
  mediaFiles: number;
}

export const NOTHING_RETAINED: RetentionResult = {
  messages: 0,
  modelCalls: 0,
  notes: 0,
  conversations: 0,
  mediaFiles: 0,
};

/**
 * One bounded round of retention; `days` 0 keeps everything. Conversations are examined only where this round
 * deleted messages or notes, unless `catchUp` (the scheduler's first round) asks for every inactive one.
 */
export async function applyRetention(
  db: Db,
  days: number,
  batches: PruneBatches = PRUNE_BATCHES,
  catchUp = false,
  /** Where the messages' media are kept; their files go before their rows. */
  media?: MediaStore,
): Promise<RetentionResult> {
  if (days <= 0) return NOTHING_RETAINED;
  let mediaFiles = 0;
  const touched = new Set<string>();
  const messages = await deleteAgedMessages(
    db,
    days,
    batches,
    async (batch) => {
      mediaFiles += await eraseMediaOf(media, mediaReferencesOf(batch));
    },
    touched,
  );
  const modelCalls = await deleteAgedModelCalls(db, days, batches);
  const notes = await deleteAgedNotes(db, days, batches, touched);
  const conversations = await deleteAgedConversations(db, days, batches, catchUp ? undefined : touched);
  return { messages, modelCalls, notes, conversations, mediaFiles };
}
