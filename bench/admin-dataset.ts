/**
 * A large, realistic dataset for the admin queries' plans (bench/explain-admin-queries.ts), built in PostgreSQL
 * with generate_series so millions of rows take a minute or two, not a client loop.
 *
 * Shape: `messages` rows over `days` days, half inbound and half replies, spread over `messages / 15`
 * conversations (plus one long conversation, 20,000 messages by default: the thread page's worst case); one delivery
 * per reply and a second part for 5 % of them; 2 % of deliveries failed, 0.5 % undelivered, the last minutes'
 * still pending or sending; 1 % of replies are AI fallbacks (error_kind); two delivery_events per sent part;
 * one webhook log per inbound message and per delivery event's callback (0.5 % of them 4xx/5xx).
 */
import type pg from 'pg';

export interface DatasetSize {
  messages: number;
  days: number;
  /** Messages of the one long conversation (id …0000); 20,000 unless given. */
  longConversation?: number;
}

/** The statements, in order, each with what it builds (for the progress log). */
export function datasetStatements({
  messages,
  days,
  longConversation = 20_000,
}: DatasetSize): Array<[string, string]> {
  const conversations = Math.max(10, Math.floor(messages / 15));
  const span = `interval '${days} days'`;
  return [
    [
      `${conversations + 1} conversations`,
      `insert into conversations (id, channel, user_address, reply_address, business_address, profile_name,
         is_active, mode, created_at, last_activity_at)
       select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'twilio',
         'whatsapp:+1555' || lpad(i::text, 9, '0'), 'whatsapp:+1555' || lpad(i::text, 9, '0'),
         'whatsapp:+14155238886', 'User ' || i,
         i % 10 = 0, case when i % 200 = 0 then 'paused' else 'bot' end, now() - ${span}, now() - ${span} * random()
       from generate_series(0, ${conversations}) i`,
    ],
    [
      `${messages} messages`,
      // Messages 2k (inbound) and 2k + 1 (its reply) belong to conversation 1 + k % conversations and are
      // created in order over the span. Conversation 0 gets none here: it is the long one below.
      `insert into messages (conversation_id, role, content, provider_message_id, processing_status, model,
         provider, input_tokens, output_tokens, latency_ms, error_kind, created_at, updated_at)
       select ('00000000-0000-4000-8000-' || lpad(to_hex(1 + (i / 2) % ${conversations}), 12, '0'))::uuid,
         case when i % 2 = 0 then 'user' else 'assistant' end,
         'message ' || i,
         case when i % 2 = 0 then 'SM' || md5(i::text) end,
         case when i % 2 = 1 then null when i > ${messages} - 40 then 'pending' else 'answered' end,
         case when i % 2 = 1 then 'openai/gpt-4o-mini' end,
         case when i % 2 = 1 then 'openrouter' end,
         case when i % 2 = 1 then 200 + i % 800 end,
         case when i % 2 = 1 then 50 + i % 300 end,
         case when i % 2 = 1 then 400 + (i::bigint * 7919) % 4000 end,
         case when i % 2 = 1 and i % 200 = 1 then 'ai_timeout' end,
         now() - ${span} + ${span} * (i::float8 / ${messages}),
         now() - ${span} + ${span} * (i::float8 / ${messages})
       from generate_series(1, ${messages}) i`,
    ],
    [
      `${longConversation} messages of one long conversation`,
      `insert into messages (conversation_id, role, content, provider_message_id, processing_status, created_at)
       select '00000000-0000-4000-8000-000000000000'::uuid,
         case when i % 2 = 0 then 'user' else 'assistant' end, 'long ' || i,
         case when i % 2 = 0 then 'SMlong' || i end, case when i % 2 = 0 then 'answered' end,
         now() - ${span} + ${span} * (i::float8 / ${longConversation})
       from generate_series(1, ${longConversation}) i`,
    ],
    [
      'one delivery per reply',
      `insert into deliveries (message_id, conversation_id, part_index, part_count, body, to_address, status,
         provider_message_id, error_code, attempts, sent_at, created_at, updated_at)
       select m.id, m.conversation_id, 0, case when h % 20 = 0 then 2 else 1 end, m.content,
         'whatsapp:+15550000000',
         case when m.created_at > now() - interval '2 minutes' then (array['pending', 'sending'])[1 + h % 2]
              when h % 50 = 0 then 'failed' when h % 200 = 1 then 'undelivered'
              when h % 3 = 0 then 'read' when h % 3 = 1 then 'delivered' else 'sent' end,
         case when m.created_at > now() - interval '2 minutes' then null else 'SMout' || m.id end,
         case when h % 50 = 0 then '63016' when h % 200 = 1 then '30008' end,
         1, m.created_at + interval '1 second', m.created_at, m.created_at + interval '5 seconds'
       from (select id, conversation_id, content, created_at, abs(hashtext(id::text)) as h
             from messages where role = 'assistant') m`,
    ],
    [
      'a second part for 5 % of replies',
      `insert into deliveries (message_id, conversation_id, part_index, part_count, body, to_address, status,
         provider_message_id, attempts, sent_at, created_at, updated_at)
       select message_id, conversation_id, 1, 2, body, to_address, 'delivered', provider_message_id || '-2', 1,
         sent_at, created_at, updated_at
       from deliveries where part_count = 2 and provider_message_id is not null`,
    ],
    [
      'two delivery events per sent part',
      `insert into delivery_events (provider_message_id, status, received_at)
       select d.provider_message_id, s.status, d.updated_at + s.after
       from deliveries d
       cross join (values ('sent', interval '1 second'), ('delivered', interval '3 seconds')) s(status, after)
       where d.provider_message_id is not null`,
    ],
    [
      'webhook logs: one per inbound message and per status callback',
      `insert into webhook_logs (channel, kind, method, path, response_status, processing_time_ms, error,
         provider_message_id, created_at)
       select 'twilio', kind, 'POST', case kind when 'inbound' then '/api/whatsapp/webhook/'
           else '/api/whatsapp/status/' end,
         case when n % 400 = 0 then 403 when n % 1000 = 1 then 503 else 200 end, 2.5,
         case when n % 1000 = 1 then 'database unavailable' end, provider_message_id, created_at
       from (
         select 'inbound' as kind, provider_message_id, created_at, row_number() over () as n
         from messages where role = 'user'
         union all
         select 'status', provider_message_id, received_at, row_number() over () + 1 from delivery_events
       ) calls`,
    ],
  ];
}

export async function buildDataset(
  client: pg.ClientBase,
  size: DatasetSize,
  progress: (line: string) => void,
): Promise<void> {
  for (const [what, statement] of datasetStatements(size)) {
    const started = performance.now();
    const result = await client.query(statement);
    progress(
      `${what}: ${result.rowCount ?? 0} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const started = performance.now();
  await client.query('vacuum analyze');
  progress(`vacuum analyze in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
