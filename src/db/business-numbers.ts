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
