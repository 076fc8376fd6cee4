ALTER TABLE "conversations" ADD COLUMN "last_inbound_at" timestamp with time zone;--> statement-breakpoint
-- Backfill: the user's last message, read per conversation through messages_conversation_created_idx. A
-- conversation whose user never wrote keeps null (its window is closed).
UPDATE "conversations" c SET "last_inbound_at" = (
  SELECT max(m."created_at") FROM "messages" m WHERE m."conversation_id" = c."id" AND m."role" = 'user'
);--> statement-breakpoint
-- record_sent (migration 0002) now says how the part ended up, so the sender sees a failure whose status
-- callback came before the send's answer (a 63016 that beat us to storing the SID) and follows it up
-- (pipeline/window-fallback.ts). A new return type needs a new function.
DROP FUNCTION IF EXISTS record_sent(uuid, text, text, jsonb, integer);--> statement-breakpoint
CREATE FUNCTION record_sent(p_part_id uuid, p_sid text, p_status text, p_ranks jsonb, p_lock_class integer)
RETURNS TABLE (status text, error_code text)
LANGUAGE plpgsql
VOLATILE
AS $$
#variable_conflict use_column
begin
  -- As in 0002: the lock first, so the update sees every status callback committed before it was granted.
  perform pg_advisory_xact_lock(p_lock_class, hashtext(p_sid));
  return query
  with candidates as (
    select p_status as status, 0 as turn
    union all select d.status, 1 from deliveries d where d.id = p_part_id
    union all select e.status, 2 from delivery_events e where e.provider_message_id = p_sid
  ), best as (
    select c.status from candidates c order by coalesce((p_ranks ->> c.status)::integer, -1) desc, c.turn limit 1
  )
  update deliveries set
    provider_message_id = p_sid,
    status = best.status,
    sent_at = coalesce(deliveries.sent_at, now()),
    updated_at = now(),
    error_code = case when best.status in ('failed', 'undelivered', 'canceled') then
      (select e.error_code from delivery_events e
        where e.provider_message_id = p_sid and e.status = best.status and e.error_code is not null
        limit 1) end,
    error_message = null
  from best
  where deliveries.id = p_part_id
  returning deliveries.status, deliveries.error_code;
end
$$;
