/**
 * A person's data rights (issue #17): export everything held about them, or erase it. One use case for the CLI
 * (`chatbot data export|erase`) and the API (`/api/v1/users/{address}`), admins only, each run audited with the
 * person's pseudonym as the target (never their number).
 */
import { insertAudit } from '../db/audit-log.js';
import { subjectConversations, subjectRecords, type SubjectConversation } from '../db/user-data.js';
import {
  countSubject,
  eraseSubject,
  findSubjectLogs,
  mediaMessagesOf,
  subjectWebhookLogIds,
  type SubjectCounts,
} from '../db/user-erasure.js';
import { AppError } from '../domain/errors.js';
import { metaRecipientAddress, recipientAddress } from '../domain/sanitize.js';
import type { Actor } from '../domain/roles.js';
import { optOutsOfAddresses } from '../db/opt-outs.js';
import { eraseMediaOf, mediaReferencesOf } from '../pipeline/media-erasure.js';
import type { PipelineDeps } from '../pipeline/deps.js';
import { rateNoticeKey, userRateKey } from '../pipeline/policies/rate-limit.js';
import { buildExport, type UserDataExport } from './data-export.js';
import { audit } from './audit.js';
import { requirePermission } from './permission.js';

export interface DataRightsDeps
  extends
    Pick<PipelineDeps, 'db' | 'log' | 'context' | 'limiter' | 'locks'>,
    Partial<Pick<PipelineDeps, 'media'>> {
  /** The person's stable pseudonym (security/pseudonym.ts): what the logs keep instead of their number. */
  pseudonymize: (address: string) => string;
  /** Every pseudonym they may have been given (the current one and an earlier key's): what an export matches. */
  knownPseudonyms?: ((address: string) => string[]) | undefined;
  /** WEBHOOK_LOG_RETENTION_DAYS: the export says when the raw webhook rows about them go. */
  webhookLogRetentionDays: number;
}

interface Found {
  conversations: SubjectConversation[];
  addresses: string[];
  pseudonym: string;
  /** The pseudonym and any earlier one of the same person (audit rows written under an earlier key). */
  pseudonyms: string[];
}

async function findSubject(deps: DataRightsDeps, actor: Actor, address: string): Promise<Found> {
  requirePermission(actor, 'data.rights');
  // `+14155550100` and `whatsapp:+14155550100` are one person: Twilio keys them in the first form, Meta in the
  // second, and either may be typed. Every form is searched; the pseudonym follows the WhatsApp form, so one
  // person keeps one pseudonym however it was typed (and as the first release computed it).
  const whatsapp = recipientAddress(address);
  const subject = whatsapp ?? address;
  const forms = [...new Set([address, whatsapp, metaRecipientAddress(address)])].filter(
    (form): form is string => form !== null,
  );
  const byId = new Map<string, SubjectConversation>();
  for (const form of forms)
    for (const conversation of await subjectConversations(deps.db, form))
      byId.set(conversation.id, conversation);
  const conversations = [...byId.values()];
  const addresses = new Set([subject]);
  for (const c of conversations) {
    addresses.add(c.userAddress);
    if (c.replyAddress) addresses.add(c.replyAddress);
  }
  const pseudonym = deps.pseudonymize(subject);
  const pseudonyms = [...new Set([pseudonym, ...(deps.knownPseudonyms?.(subject) ?? [])])];
  return { conversations, addresses: [...addresses], pseudonym, pseudonyms };
}

/** Everything held about the person with this address (key or reply address, any channel). */
export async function exportUserData(
  deps: DataRightsDeps,
  request: { actor: Actor; address: string },
): Promise<UserDataExport> {
  const found = await findSubject(deps, request.actor, request.address);
  // A person known only by the opt-out list (erased, or never wrote back after STOP) is known too.
  const optOuts = await optOutsOfAddresses(deps.db, [...new Set([request.address, ...found.addresses])]);
  if (found.conversations.length === 0 && optOuts.length === 0) throw notFound();
  const ids = found.conversations.map((c) => c.id);
  const [records, webhookLogIds] = await Promise.all([
    subjectRecords(deps.db, ids, found.pseudonyms),
    subjectWebhookLogIds(deps.db, { conversationIds: ids, addresses: found.addresses }),
  ]);
  const document = buildExport({
    address: request.address,
    pseudonym: found.pseudonym,
    conversations: found.conversations,
    records,
    webhookLogs: { count: webhookLogIds.length, retentionDays: deps.webhookLogRetentionDays },
    optOuts,
  });
  await insertAudit(deps.db, {
    actor: request.actor,
    action: 'data.export',
    target: { type: 'user', id: found.pseudonym },
    details: { conversations: ids.length, messages: records.messages.length },
  });
  return document;
}

export interface ErasureReport {
  /** False: nothing was changed, `counts` is what an erasure would touch. */
  erased: boolean;
  pseudonym: string;
  counts: SubjectCounts;
  /** Media files deleted from our store (MEDIA_DIR or the S3 bucket: pipeline/media-erasure.ts). */
  mediaFiles: number;
  /**
   * The cached context, the rate-limit counter and its notice's claim (`once:rate-notice:<channel>:<address>`) were
   * forgotten. False when Redis did not answer: they expire by themselves (SESSION_TIMEOUT_MINUTES,
   * RATE_LIMIT_WINDOW_SECONDS) and are keyed by conversation ids and addresses nothing refers to any more.
   */
  hotStateCleared: boolean;
}

/**
 * Deletes their conversations (and with them messages, deliveries, model calls, notes), the status callbacks of
 * their messages, their media, cached context, rate-limit counter and notice claim; rewrites webhook and audit rows that
 * mention them with the pseudonym. With `confirm` false, only counts. Their next message starts afresh.
 */
export async function eraseUserData(
  deps: DataRightsDeps,
  request: { actor: Actor; address: string; confirm: boolean },
): Promise<ErasureReport> {
  const found = await findSubject(deps, request.actor, request.address);
  const subject = { conversationIds: found.conversations.map((c) => c.id), addresses: found.addresses };
  // The logs are searched once (their text is scanned) and the rows found are counted and rewritten.
  const logs = await findSubjectLogs(deps.db, subject);
  // Without conversations, log rows may still name them (a late status callback after an earlier erasure).
  if (found.conversations.length === 0 && logs.webhookLogIds.length + logs.auditIds.length === 0)
    throw notFound();
  if (!request.confirm) {
    const counts = await countSubject(deps.db, subject, logs);
    return { erased: false, pseudonym: found.pseudonym, counts, mediaFiles: 0, hotStateCleared: false };
  }
  // Media first: a failure here leaves the rows that reference them, and the erasure can simply be run again.
  const mediaFiles = await eraseMediaOf(
    deps.media,
    mediaReferencesOf(await mediaMessagesOf(deps.db, subject.conversationIds)),
  );
  const counts = await eraseSubject(deps.db, subject, found.pseudonym, logs);
  // Their opt_outs rows are kept on purpose (see README, Data rights): erasing a STOP would let proactive
  // messages reach someone who refused them.
  // After the rows: a context cached by a message that arrived during the erasure is forgotten too.
  const hotStateCleared = await Promise.all(
    found.conversations.flatMap((c) => [
      deps.context.clear(c.id),
      deps.limiter.reset(userRateKey(c.channel, c.userAddress)),
      deps.locks.forgetClaim(rateNoticeKey(c.channel, c.userAddress)),
    ]),
  ).then(
    () => true,
    (error: unknown) => {
      deps.log.warn(
        { err: error, subject: found.pseudonym },
        'erasure: Redis did not forget the cached state',
      );
      return false;
    },
  );
  // Logged loudly if it cannot be written, but the erasure stands (inbox/audit.ts); an export, by contrast, is
  // refused when its audit row cannot be written: no one's data leaves without a trace.
  await audit(deps, {
    actor: request.actor,
    action: 'data.erase',
    target: { type: 'user', id: found.pseudonym },
    details: { ...counts, mediaFiles },
  });
  return { erased: true, pseudonym: found.pseudonym, counts, mediaFiles, hotStateCleared };
}

function notFound(): AppError {
  return new AppError('not_found', 'no data is held about this address');
}
