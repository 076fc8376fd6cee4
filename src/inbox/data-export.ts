/**
 * The data export's document: what `chatbot data export` prints and `GET /api/v1/users/{address}/export`
 * answers. Versioned by `format`, so a consumer can tell a later shape apart.
 */
import type {
  StoredAuditEntry,
  StoredDelivery,
  StoredModelCall,
  StoredNote,
  SubjectConversation,
  SubjectRecords,
} from '../db/user-data.js';
import type { OptOutEntry } from '../db/opt-outs.js';
import { messageView } from './messages.js';

export const EXPORT_FORMAT = 'whatsapp-ai-chatbot.user-data.v1';

export interface UserDataExport {
  format: typeof EXPORT_FORMAT;
  exportedAt: string;
  /** The address asked for, and the pseudonym the audit log records the export under. */
  subject: { address: string; pseudonym: string };
  profile: { addresses: string[]; profileNames: string[]; channels: string[] };
  conversations: ExportedConversation[];
  /**
   * Whether they asked for no more messages: the opt-out list's rows of their addresses (kept through an erasure,
   * so a STOP outlives the data). `optedOut` is true when any address is on it.
   */
  optOut: { optedOut: boolean; entries: OptOutEntry[] };
  /** Operator actions on their conversations, and earlier exports and erasures under their pseudonym. */
  auditEntries: StoredAuditEntry[];
  /**
   * Raw webhook posts that mention them (the channel's copy of their messages and statuses): counted, not
   * included, since each one's content is already in `messages`; deleted after `retentionDays`.
   */
  webhookLogs: { count: number; retentionDays: number };
}

export interface ExportedConversation {
  id: string;
  channel: string;
  userAddress: string;
  replyAddress: string | null;
  businessAddress: string | null;
  profileName: string | null;
  mode: string;
  isActive: boolean;
  assignee: string | null;
  handoffAt: Date | null;
  handoffReason: string | null;
  contextResetAt: Date | null;
  createdAt: Date;
  lastActivityAt: Date;
  messages: ExportedMessage[];
  modelCalls: Array<Omit<StoredModelCall, 'conversationId'>>;
  notes: Array<Omit<StoredNote, 'conversationId'>>;
}

export interface ExportedMessage {
  id: string;
  direction: 'inbound' | 'outbound';
  author: string;
  text: string;
  kind: string;
  status: string | null;
  outcome: string | null;
  outcomeReason: string | null;
  /** The typed content (media references, location, template, …) and its context (a quoted message, an ad). */
  payload: Record<string, unknown> | null;
  /**
   * What the system noted on the message: an outbound window template's note (`window`: the operator's original
   * text it replaced, or the failure it followed), an inbound message's original length, … Held about them too.
   */
  metadata: Record<string, unknown>;
  providerMessageId: string | null;
  replyToMessageId: string | null;
  createdAt: Date;
  /** Outbound: each part as sent, with its delivery status, the provider's error code and every callback. */
  deliveries: Array<Omit<StoredDelivery, 'messageId'>>;
}

export function buildExport(input: {
  address: string;
  pseudonym: string;
  conversations: SubjectConversation[];
  records: SubjectRecords;
  webhookLogs: { count: number; retentionDays: number };
  optOuts: OptOutEntry[];
}): UserDataExport {
  const { records } = input;
  // Grouped once: a long-lived user has tens of thousands of messages, each looked up once here.
  const partsOf = groupBy(records.deliveries, (d) => d.messageId);
  const messagesOf = groupBy(records.messages, (m) => m.conversationId);
  const unique = (values: Array<string | null>) => [...new Set(values.filter((v): v is string => !!v))];
  return {
    format: EXPORT_FORMAT,
    exportedAt: new Date().toISOString(),
    subject: { address: input.address, pseudonym: input.pseudonym },
    profile: {
      addresses: unique(input.conversations.flatMap((c) => [c.userAddress, c.replyAddress])),
      profileNames: unique(input.conversations.map((c) => c.profileName)),
      channels: unique(input.conversations.map((c) => c.channel)),
    },
    conversations: input.conversations.map(({ assigneeName, ...c }) => ({
      ...c,
      assignee: assigneeName,
      messages: (messagesOf.get(c.id) ?? []).map((m) => {
        const parts = partsOf.get(m.id) ?? [];
        const view = messageView({
          ...m,
          partStatuses: parts.map((p) => p.status),
          errorCode: parts.find((p) => p.errorCode !== null)?.errorCode ?? null,
          windowNote: m.metadata['window'] ?? null,
          key: { at: '', id: m.id },
        });
        return {
          id: m.id,
          direction: view.direction,
          author: view.author,
          text: m.content,
          kind: m.contentType,
          status: view.status,
          outcome: view.outcome,
          outcomeReason: view.outcomeReason,
          payload: m.payload,
          metadata: m.metadata,
          providerMessageId: m.providerMessageId,
          replyToMessageId: m.replyToMessageId,
          createdAt: m.createdAt,
          deliveries: parts.map(({ messageId: _, ...part }) => part),
        };
      }),
      modelCalls: records.modelCalls
        .filter((call) => call.conversationId === c.id)
        .map(({ conversationId: _, ...call }) => call),
      notes: records.notes
        .filter((note) => note.conversationId === c.id)
        .map(({ conversationId: _, ...note }) => note),
    })),
    optOut: { optedOut: input.optOuts.length > 0, entries: input.optOuts },
    auditEntries: records.audit,
    webhookLogs: input.webhookLogs,
  };
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
