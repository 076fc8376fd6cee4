/**
 * Tell the user the bot is on it: the channel marks the newest message of the batch read (Meta marks the earlier
 * ones with it) and shows "typing…" until the answer goes out or 25 s pass. Called only once the gate has decided
 * that the model answers (the conversation is the bot's, nothing skipped it), so nobody sees "typing…" for an answer
 * that never comes. Best effort: it never throws, and it runs beside the model call rather than before it.
 */
import type { PendingInbound } from '../db/messages.js';
import type { Channel } from '../ports.js';
import type { Logger } from '../log.js';

export function acknowledgeBatch(
  channel: Channel,
  businessAddress: string | null,
  batch: readonly PendingInbound[],
  log: Logger,
): Promise<void> {
  const newest = batch.at(-1)?.providerMessageId;
  if (!channel.acknowledge || !newest) return Promise.resolve();
  return channel
    .acknowledge({ providerMessageId: newest, ...(businessAddress ? { from: businessAddress } : {}) })
    .catch((error: unknown) => {
      log.warn(
        { err: error, providerMessageId: newest },
        'could not mark the message read (the answer goes on)',
      );
    });
}
