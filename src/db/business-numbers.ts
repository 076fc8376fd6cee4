/**
 * The `business_numbers` rows (schema.ts): the numbers beyond the environment's default one. Credentials are
 * stored encrypted; this file stores and returns the ciphertext, the caller holds the cipher.
 */
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from './connect.js';
import { businessNumbers } from './schema.js';

export type BusinessNumberRow = typeof businessNumbers.$inferSelect;
export type NumberChannel = 'twilio' | 'meta';

export async function listBusinessNumbers(
  db: Db,
  options: { activeOnly?: boolean; channel?: NumberChannel } = {},
): Promise<BusinessNumberRow[]> {
  const conditions = [
    options.activeOnly ? eq(businessNumbers.isActive, true) : undefined,
    options.channel ? eq(businessNumbers.channel, options.channel) : undefined,
  ];
  return db
    .select()
    .from(businessNumbers)
    .where(and(...conditions))
    .orderBy(asc(businessNumbers.channel), asc(businessNumbers.createdAt));
}

export async function findBusinessNumber(
  db: Db,
  channel: NumberChannel,
  address: string,
): Promise<BusinessNumberRow | null> {
  const [row] = await db
    .select()
    .from(businessNumbers)
    .where(and(eq(businessNumbers.channel, channel), eq(businessNumbers.address, address)));
  return row ?? null;
}

export interface BusinessNumberValues {
  channel: NumberChannel;
  address: string;
  name: string | null;
  aiConfigId: string | null;
  credentialsEncrypted: string | null;
  isActive: boolean;
}

/** Insert a number; null when its channel and address are taken already. */
export async function insertBusinessNumber(
  db: Db,
  values: BusinessNumberValues,
): Promise<BusinessNumberRow | null> {
  const [row] = await db
    .insert(businessNumbers)
    .values(values)
    .onConflictDoNothing({ target: [businessNumbers.channel, businessNumbers.address] })
    .returning();
  return row ?? null;
}

export async function updateBusinessNumber(
  db: Db,
  id: string,
  patch: Partial<Omit<BusinessNumberValues, 'channel' | 'address'>>,
): Promise<BusinessNumberRow | null> {
  const [row] = await db.update(businessNumbers).set(patch).where(eq(businessNumbers.id, id)).returning();
  return row ?? null;
}

export async function deleteBusinessNumber(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .delete(businessNumbers)
    .where(eq(businessNumbers.id, id))
    .returning({ id: businessNumbers.id });
  return rows.length > 0;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A number by its id or its address (on any channel: a Twilio address and a Meta id cannot look alike). */
export async function findBusinessNumberByRef(db: Db, ref: string): Promise<BusinessNumberRow | null> {
  const [row] = await db
    .select()
    .from(businessNumbers)
    .where(UUID.test(ref) ? eq(businessNumbers.id, ref) : eq(businessNumbers.address, ref))
    .limit(1);
  return row ?? null;
}
