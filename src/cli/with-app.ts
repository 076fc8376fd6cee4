/**
 * Commands that act like an operator (switch a conversation's mode, send a message) run the same use cases as the
 * web and the API, so they need the same parts: the database, the queue (the worker delivers what they store), the
 * channels. This opens them for one command and closes them again; warnings go to stderr, so stdout stays the
 * command's own output.
 */
import { pino } from 'pino';
import { compose, type Composed } from '../main/compose.js';
import { cliConfig } from './context.js';

export async function withApp<T>(work: (app: Composed) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const log = pino({ level: 'warn' }, pino.destination(2));
  const app = await compose(config, log, { migrate: false });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
