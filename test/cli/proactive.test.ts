/**
 * `chatbot send` and `chatbot broadcast` as an operator runs them, with a real worker (and scheduler) delivering
 * to the fake Twilio: one message, bad flags, and a 500-recipient broadcast killed halfway and run again, which
 * reaches each person exactly once and reports the rows it skipped.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/db/messages.js';
import { inbound } from '../db/fixtures.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { cliEnv } from './env.js';
import { runCli, spawnCli } from './run-cli.js';

const TEMPLATE = 'HX' + 'c0ffee00c0ffee00c0ffee00c0ffee00';
const CAMPAIGN_TEMPLATE = 'HX' + 'b0a710ad'.repeat(4);

let app: TestApp;
let env: Record<string, string>;
let dir: string;
beforeAll(async () => {
  const prefix = `test-${randomUUID()}`;
  // The CLI and the worker share the database and the queue (the same Redis prefix), as on a server.
  app = await startTestApp({ REDIS_KEY_PREFIX: prefix, STRANDED_AFTER_SECONDS: '5' }, [
    'worker',
    'scheduler',
  ]);
  env = {
    ...cliEnv({ databaseUrl: app.databaseUrl, twilio: app.twilio, llm: app.llm }),
    REDIS_KEY_PREFIX: prefix,
  };
  dir = await mkdtemp(join(tmpdir(), 'broadcast-'));
}, 60_000);
afterAll(async () => {
  await app.stop();
  await rm(dir, { recursive: true, force: true });
});

const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);

describe('chatbot send', { timeout: 120_000 }, () => {
  it('sends a template to a new person and a text to one who wrote, printing the message id and status', async () => {
    const template = await runCli(
      ['send', '--to', '+14155550901', '--template', TEMPLATE, '--variables', '{"1":"Ana"}', '--json'],
      { env },
    );
    expect(template.stderr).toBe('');
    expect(template.code).toBe(0);
    const printed = JSON.parse(template.stdout) as {
      message: { id: string; status: string; kind: string };
      conversationCreated: boolean;
    };
    expect(printed).toMatchObject({
      conversationCreated: true,
      message: { kind: 'template', status: 'pending' },
    });
    const delivered = await eventually('the template at Twilio', () =>
      Promise.resolve(sentTo('whatsapp:+14155550901')[0]),
    );
    expect(delivered).toMatchObject({
      contentSid: TEMPLATE,
      contentVariables: '{"1":"Ana"}',
      from: BUSINESS_NUMBER,
    });

    const { conversationId } = await acceptInbound(
      app.running.composed.deps.db,
      inbound({ from: 'whatsapp:+14155550902' }),
    );
    const text = await runCli(['send', '--to', 'whatsapp:+14155550902', '--text', 'Your order shipped.'], {
      env,
    });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/✓ message [0-9a-f-]{36} to whatsapp:\+14155550902: pending/);
    expect(text.stdout).toContain(`conversation ${conversationId}\n`);
    await eventually('the text at Twilio', () =>
      Promise.resolve(sentTo('whatsapp:+14155550902').find((m) => m.body === 'Your order shipped.')),
    );
    const audited = await app.query<{ actor_kind: string }>(
      `select actor_kind from audit_log where action = 'message.proactive' and target_id = $1`,
      [conversationId],
    );
    expect(audited).toEqual([{ actor_kind: 'cli' }]);
  });

  it('exits 1 with the reason when the person cannot be sent to: outside the window, opted out', async () => {
    const never = await runCli(['send', '--to', '+14155550904', '--text', 'Hello!'], { env });
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('outside_window');
    await app.query(
      `insert into opt_outs (channel, address, source, keyword) values ('twilio', 'whatsapp:+14155550905', 'keyword', 'STOP')`,
    );
    const stopped = await runCli(['send', '--to', '+14155550905', '--template', TEMPLATE], { env });
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('opted_out');
  });

  it('exits 2 on bad flags and values, storing nothing', async () => {
    const cases = [
      ['send', '--to', '+14155550903'],
      ['send', '--to', '+14155550903', '--text', 'a', '--template', TEMPLATE],
      ['send', '--to', '+14155550903', '--template', TEMPLATE, '--variables', '{"1":'],
      ['send', '--to', '+14155550903', '--template', 'HXnope'],
      ['send', '--to', '555', '--text', 'hi'],
      ['send', '--to', '+14155550903', '--from', 'whatsapp:+19990000000', '--text', 'hi'],
    ];
    const results = await Promise.all(cases.map((args) => runCli(args, { env })));
    for (const [i, result] of results.entries())
      expect({ args: cases[i], code: result.code }).toEqual({ args: cases[i], code: 2 });
    expect(results[4]?.stderr).toContain('not a WhatsApp address');
    const stored = await app.query(
      `select 1 from conversations where user_address = 'whatsapp:+14155550903'`,
    );
    expect(stored).toEqual([]);
  });
});

describe('chatbot broadcast', { timeout: 180_000 }, () => {
  it('500 recipients, killed halfway and run again: each person gets the template exactly once, bad rows reported', async () => {
    const people = Array.from({ length: 500 }, (_, i) => `+1415600${String(i).padStart(4, '0')}`);
    const rows = people.map((to, i) => `${i % 2 === 0 ? to : `whatsapp:${to}`},Customer ${i},"Mon, 9am"`);
    // Bad rows among the good ones: skipped with their reason, never sent.
    rows.splice(10, 0, 'not-a-number,X,Y');
    rows.splice(20, 0, '+14156000001,Again,Y');
    rows.splice(30, 0, '+14156999999,,Y');
    const csv = join(dir, 'customers.csv');
    await writeFile(csv, ['to,1,2', ...rows].join('\n') + '\n');
    const args = ['broadcast', '--template', CAMPAIGN_TEMPLATE, '--csv', csv, '--rate', '400'];
    const stored = async () =>
      Number(
        (
          await app.query<{ n: number }>(
            `select count(*)::int as n from messages where outbound_key like 'broadcast:%'`,
          )
        )[0]?.n,
      );

    const first = spawnCli(args, { env });
    await eventually(
      'some of the broadcast stored',
      async () => ((await stored()) >= 150 ? true : undefined),
      60_000,
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBeNull();
    const storedByFirst = await stored();
    expect(storedByFirst).toBeLessThan(500);

    const second = await runCli(args, { env });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(await stored()).toBe(500);
    expect(second.stdout).toContain(`· already sent by an earlier run ${storedByFirst}`);
    expect(second.stdout).toContain(`· sent ${500 - storedByFirst} (queued for delivery)`);
    expect(second.stdout).toContain('· skipped 3: invalid_address 1, duplicate 1, missing_variable 1');
    expect(second.stdout).toContain('· line 12 "not-a-number": skipped (invalid_address)');

    // The worker delivers all of them (the ones the kill left unqueued through the scheduler's sweep); then
    // nobody has two.
    await eventually(
      'every broadcast message at Twilio',
      () =>
        Promise.resolve(
          app.twilio.sent.filter((m) => m.contentSid === CAMPAIGN_TEMPLATE).length >= 500 ? true : undefined,
        ),
      90_000,
    );
    await eventually(
      'no broadcast part left unsent',
      async () => {
        const [row] = await app.query<{ n: number }>(
          `select count(*)::int as n from deliveries d join messages m on m.id = d.message_id
           where m.outbound_key like 'broadcast:%' and d.status in ('pending', 'sending')`,
        );
        return row?.n === 0 ? true : undefined;
      },
      30_000,
    );
    for (const to of people)
      expect(sentTo(`whatsapp:${to}`).filter((m) => m.contentSid === CAMPAIGN_TEMPLATE)).toHaveLength(1);
    const sample = sentTo(`whatsapp:${people[7] ?? ''}`)[0];
    expect(JSON.parse(sample?.contentVariables ?? 'null')).toEqual({ '1': 'Customer 7', '2': 'Mon, 9am' });
    expect(sentTo('whatsapp:+14156999999')).toEqual([]);

    // Once more: nothing new, and the report says so.
    const third = await runCli([...args, '--json'], { env });
    expect(third.code).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({
      recipients: 503,
      sent: 0,
      alreadySent: 500,
      skipped: { invalid_address: 1, duplicate: 1, missing_variable: 1 },
      failed: 0,
    });
    const audits = await app.query<{ details: { sent: number; alreadySent: number } }>(
      `select details from audit_log where action = 'message.broadcast' order by created_at`,
    );
    // One row per run that finished (the killed one did not).
    expect(audits.map((a) => [a.details.sent, a.details.alreadySent])).toEqual([
      [500 - storedByFirst, storedByFirst],
      [0, 500],
    ]);
  });

  it('exits 2 on a file without a "to" column or that cannot be read', async () => {
    const csv = join(dir, 'bad.csv');
    await writeFile(csv, 'phone,1\n+14155550100,Ana\n');
    const [noTo, missing] = await Promise.all([
      runCli(['broadcast', '--template', CAMPAIGN_TEMPLATE, '--csv', csv], { env }),
      runCli(['broadcast', '--template', CAMPAIGN_TEMPLATE, '--csv', join(dir, 'nope.csv')], { env }),
    ]);
    expect(noTo).toMatchObject({ code: 2 });
    expect(noTo.stderr).toContain('no "to" column');
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain('ENOENT');
  });
});
