import { eq } from 'drizzle-orm';
import type { Db } from './connect.js';
import { aiConfigurations } from './schema.js';

export type AiConfigRow = typeof aiConfigurations.$inferSelect;

/** The one active configuration (the database allows at most one), or null to use the environment's. */
export async function getActiveAiConfig(db: Db): Promise<AiConfigRow | null> {
  const rows = await db.select().from(aiConfigurations).where(eq(aiConfigurations.isActive, true)).limit(1);
  return rows[0] ?? null;
}
