/**
 * Who wrote a Meta message (wire facts §5.3, §5.9), in the address formats the whole team uses: the reply address
 * (`from`) is `+<wa_id>` when Meta gives a phone number, else the business-scoped user id (BSUID); the person's
 * stable id (`userId`) is the BSUID when there is one, so a user who moves from phone to BSUID keeps one
 * conversation. Meta has placed the BSUID in `messages[].from_user_id` and in `contacts[].user_id`, and the
 * username and country code in `profile` or beside it: every placement is read.
 */
import { isE164 } from '../../domain/sanitize.js';
import { isObject, object, raw, text, type Json } from './json.js';

export interface MetaSender {
  /** Where replies go: `+<wa_id>`, or the BSUID when the user hides their number. */
  from: string;
  /** The BSUID when it differs from `from` (InboundMessage.userId's contract). */
  userId?: string;
  profileName: string | null;
  /** Kept in metadata: waId, userId (BSUID), username, countryCode, identityKeyHash, fromLogicalId. */
  metadata: Record<string, unknown>;
}

const MAX_PROFILE_NAME = 256;
const WA_ID = /^\d{6,15}$/;
/**
 * A BSUID: `CC.<letters and digits>` (`BR.1502576394655843`, parent ids `US.ENT.…`) as Meta documents it now, or
 * Meta's draft's `user.<hex>`: dot-separated letters and digits, nothing that could carry separators into keys.
 */
const BSUID = /^[A-Za-z0-9]{1,32}(?:\.[A-Za-z0-9]{1,160}){1,3}$/;

function bsuid(value: string | undefined): string | undefined {
  return value !== undefined && BSUID.test(value) ? value : undefined;
}

/** The contacts[] entry of this message's sender: by wa_id, else by BSUID, else the only one there is. */
function contactOf(
  contacts: unknown[],
  waId: string | undefined,
  userId: string | undefined,
): Json | undefined {
  const entries = contacts.filter(isObject);
  return (
    (waId !== undefined ? entries.find((c) => raw(c, 'wa_id') === waId) : undefined) ??
    (userId !== undefined ? entries.find((c) => raw(c, 'user_id') === userId) : undefined) ??
    (entries.length === 1 ? entries[0] : undefined)
  );
}

/** The sender of `message`, or undefined when Meta gave neither a phone number nor a BSUID we can answer. */
export function metaSender(message: Json, contacts: unknown[]): MetaSender | undefined {
  const rawFrom = raw(message, 'from') ?? '';
  const waId = WA_ID.test(rawFrom) && isE164(`+${rawFrom}`) ? rawFrom : undefined;
  const fromUserId = bsuid(raw(message, 'from_user_id'));
  const contact = contactOf(contacts, waId, fromUserId);
  const userId = fromUserId ?? bsuid(raw(contact, 'user_id'));
  const from = waId !== undefined ? `+${waId}` : userId;
  if (from === undefined) return undefined;
  const profile = object(contact, 'profile');
  const profileName = text(profile, 'name', MAX_PROFILE_NAME) ?? null;
  const username = text(profile, 'username', 128) ?? text(contact, 'username', 128);
  const countryCode = text(contact, 'country_code', 8) ?? text(profile, 'country_code', 8);
  const identityKeyHash = text(contact, 'identity_key_hash', 256);
  const fromLogicalId = text(message, 'from_logical_id', 64);
  const metadata: Record<string, unknown> = {
    ...(waId !== undefined ? { waId } : {}),
    ...(userId !== undefined ? { userId } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(countryCode !== undefined ? { countryCode } : {}),
    ...(identityKeyHash !== undefined ? { identityKeyHash } : {}),
    ...(fromLogicalId !== undefined ? { fromLogicalId } : {}),
  };
  return {
    from,
    ...(userId !== undefined && userId !== from ? { userId } : {}),
    profileName,
    metadata,
  };
}
