import { loadConfig } from '../config/load.js';
import { connectDb } from '../db/connect.js';
import { runMigrations } from '../db/migrate.js';

export async function migrateCommand(): Promise<void> {
  const config = loadConfig(process.env);
  const database = await connectDb(config.database);
  try {
    const { applied } = await runMigrations(database);
    const where = config.database.kind === 'postgres' ? 'PostgreSQL' : `PGlite at ${config.database.dataDir}`;
    console.log(
      applied === 0 ? `✓ ${where}: already up to date` : `✓ ${where}: applied ${applied} migration(s)`,
    );
  } finally {
    await database.close();
  }
}
