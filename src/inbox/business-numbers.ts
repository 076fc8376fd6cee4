/**
 * Managing business numbers (the CLI's `chatbot number …` and the admin's Numbers page): each change validated,
 * its credentials encrypted with FIELD_ENCRYPTION_KEY, and audited. Running processes see a change within their
 * directory's refresh interval (channels/number-directory.ts).
 */
import { getAiConfig } from '../db/ai-configs.js';
import {
  deleteBusinessNumber,
  findBusinessNumberByRef,
  insertBusinessNumber,
  listBusinessNumbers,
  updateBusinessNumber,
  type BusinessNumberRow,
  type NumberChannel,
} from '../db/business-numbers.js';
import type { Db } from '../db/connect.js';
import { AppError } from '../domain/errors.js';
import type { Actor } from '../domain/roles.js';
import type { NumberCredentials } from '../ports.js';
import type { FieldCipher } from '../security/field-encryption.js';
import { insertAudit } from '../db/audit-log.js';
import { requirePermission } from './permission.js';

export interface NumberDeps {
  db: Db;
  /** Null when FIELD_ENCRYPTION_KEY is not set: credentials cannot be stored or changed then. */
  cipher: FieldCipher | null;
}

export interface NewNumber {
  channel: NumberChannel;
  address: string;
  name?: string | undefined;
  /** The AI configuration's name (its persona); absent: the active configuration answers. */
  aiConfig?: string | undefined;
  credentials?: NumberCredentials | undefined;
}

export interface NumberChange {
  name?: string | null | undefined;
  /** A configuration's name, or null to answer with the active configuration again. */
  aiConfig?: string | null | undefined;
  active?: boolean | undefined;
  /** Credentials to set; the others stay as they are. */
  credentials?: NumberCredentials | undefined;
}

const E164_WHATSAPP = /^whatsapp:\+[1-9]\d{6,14}$/;
const META_ID = /^\d{5,30}$/;

/** `whatsapp:+E164` (a bare +E164 is taken as one) for Twilio, digits for Meta; invalid_input otherwise. */
export function normalizeNumberAddress(channel: NumberChannel, address: string): string {
  const trimmed = address.trim();
  if (channel === 'meta') {
    if (!META_ID.test(trimmed))
      throw invalid(`"${address}" is not a Meta phone number id (digits only, as Meta's dashboard shows it)`);
    return trimmed;
  }
  const withPrefix = trimmed.startsWith('whatsapp:') ? trimmed : `whatsapp:${trimmed}`;
  if (!E164_WHATSAPP.test(withPrefix))
    throw invalid(
      `"${address}" is not a Twilio WhatsApp sender: use whatsapp:+E164, e.g. whatsapp:+14155238886`,
    );
  return withPrefix;
}

/** A stored number with the name of the AI configuration that answers on it (null: the active one). */
export interface ListedNumber {
  row: BusinessNumberRow;
  aiConfig: string | null;
}

/**
 * Every stored number with its persona's name. Admins only (settings.manage), like every use case of this file:
 * a number's persona decides what the bot says there, and its rows say which credentials are stored.
 */
export async function listNumbers(deps: Pick<NumberDeps, 'db'>, actor: Actor): Promise<ListedNumber[]> {
  requirePermission(actor, 'settings.manage');
  const rows = await listBusinessNumbers(deps.db);
  const names = new Map<string, string | null>();
  for (const id of new Set(rows.flatMap((row) => (row.aiConfigId ? [row.aiConfigId] : []))))
    names.set(id, (await getAiConfig(deps.db, { id }))?.name ?? null);
  return rows.map((row) => ({ row, aiConfig: row.aiConfigId ? (names.get(row.aiConfigId) ?? null) : null }));
}

export async function addNumber(
  deps: NumberDeps,
  actor: Actor,
  input: NewNumber,
): Promise<BusinessNumberRow> {
  requirePermission(actor, 'settings.manage');
  const address = normalizeNumberAddress(input.channel, input.address);
  const credentials = checkedCredentials(input.channel, input.credentials ?? {});
  const aiConfigId = input.aiConfig === undefined ? null : await aiConfigIdOf(deps.db, input.aiConfig);
  const row = await insertBusinessNumber(deps.db, {
    channel: input.channel,
    address,
    name: input.name?.trim() || null,
    aiConfigId,
    credentialsEncrypted: Object.keys(credentials).length === 0 ? null : encrypt(deps, credentials),
    isActive: true,
  });
  if (!row)
    throw new AppError('invalid_input', `${input.channel} number ${address} exists already`, {
      code: 'already_exists',
    });
  await audited(deps, actor, 'number.create', row, { aiConfig: input.aiConfig ?? null });
  return row;
}

export async function changeNumber(
  deps: NumberDeps,
  actor: Actor,
  ref: string,
  change: NumberChange,
): Promise<BusinessNumberRow> {
  requirePermission(actor, 'settings.manage');
  const before = await numberByRef(deps.db, ref);
  const patch: Parameters<typeof updateBusinessNumber>[2] = {};
  if (change.name !== undefined) patch.name = change.name?.trim() || null;
  if (change.active !== undefined) patch.isActive = change.active;
  if (change.aiConfig !== undefined)
    patch.aiConfigId = change.aiConfig === null ? null : await aiConfigIdOf(deps.db, change.aiConfig);
  if (change.credentials && Object.keys(change.credentials).length > 0) {
    const current = before.credentialsEncrypted === null ? {} : decrypt(deps, before.credentialsEncrypted);
    const merged = checkedCredentials(before.channel as NumberChannel, { ...current, ...change.credentials });
    patch.credentialsEncrypted = encrypt(deps, merged);
  }
  if (Object.keys(patch).length === 0) throw invalid('nothing to change');
  const row = await updateBusinessNumber(deps.db, before.id, patch);
  if (!row) throw new AppError('not_found', `no business number ${ref}`);
  const changed = Object.keys(patch).map((key) => (key === 'credentialsEncrypted' ? 'credentials' : key));
  await audited(deps, actor, 'number.update', row, { changed });
  return row;
}

export async function removeNumber(deps: NumberDeps, actor: Actor, ref: string): Promise<BusinessNumberRow> {
  requirePermission(actor, 'settings.manage');
  const row = await numberByRef(deps.db, ref);
  if (!(await deleteBusinessNumber(deps.db, row.id)))
    throw new AppError('not_found', `no business number ${ref}`);
  await audited(deps, actor, 'number.delete', row, {});
  return row;
}

export async function numberByRef(db: Db, ref: string): Promise<BusinessNumberRow> {
  const row = await findBusinessNumberByRef(db, ref.trim());
  if (!row) throw new AppError('not_found', `no business number ${ref}`);
  return row;
}

/** Twilio: both of accountSid and authToken or neither; Meta: no Twilio fields. Empty values are dropped. */
function checkedCredentials(channel: NumberChannel, given: NumberCredentials): NumberCredentials {
  const credentials = Object.fromEntries(
    Object.entries(given).filter(([, value]) => typeof value === 'string' && value !== ''),
  ) as NumberCredentials;
  if (channel === 'twilio') {
    if (credentials.accessToken || credentials.appSecret || credentials.verifyToken)
      throw invalid('a Twilio number takes an account SID and auth token, not Meta credentials');
    if ((credentials.accountSid === undefined) !== (credentials.authToken === undefined))
      throw invalid("a Twilio number's own account needs both its account SID and its auth token");
    if (credentials.accountSid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(credentials.accountSid))
      throw invalid(`"${credentials.accountSid}" is not a Twilio account SID (AC + 32 hex digits)`);
  } else if (credentials.accountSid || credentials.authToken) {
    throw invalid('a Meta number takes an access token, app secret and verify token, not Twilio credentials');
  }
  return credentials;
}

async function aiConfigIdOf(db: Db, name: string): Promise<string> {
  const row = await getAiConfig(db, { name });
  if (!row) throw invalid(`no AI configuration named "${name}" (see chatbot ai-config list)`);
  return row.id;
}

function needCipher(deps: NumberDeps): FieldCipher {
  if (!deps.cipher)
    throw invalid(
      'FIELD_ENCRYPTION_KEY is not set; it is needed to store business number credentials ' +
        '(generate one with `chatbot generate-key`)',
      'no_encryption_key',
    );
  return deps.cipher;
}

function encrypt(deps: NumberDeps, credentials: NumberCredentials): string {
  return needCipher(deps).encrypt(JSON.stringify(credentials));
}

function decrypt(deps: NumberDeps, stored: string): NumberCredentials {
  return JSON.parse(needCipher(deps).decrypt(stored)) as NumberCredentials;
}

/** Never a credential in the audit row: only whether the number has any. */
async function audited(
  deps: NumberDeps,
  actor: Actor,
  action: string,
  row: BusinessNumberRow,
  extra: Record<string, unknown>,
): Promise<void> {
  await insertAudit(deps.db, {
    actor,
    action,
    target: { type: 'business-number', id: row.id },
    details: {
      channel: row.channel,
      address: row.address,
      name: row.name,
      active: row.isActive,
      hasCredentials: row.credentialsEncrypted !== null,
      ...extra,
    },
  });
}

function invalid(message: string, code?: string): AppError {
  return new AppError('invalid_input', message, code ? { code } : {});
}
