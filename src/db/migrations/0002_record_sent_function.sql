-- recordSent (src/db/deliveries.ts) in one round trip instead of four (begin, lock, update, commit): it runs for
-- every part sent. The rank of each status and the lock class come from the caller, so domain/delivery.ts stays
-- the one place that orders statuses.
create or replace function record_sent(p_part_id uuid, p_sid text, p_status text, p_ranks jsonb, p_lock_class integer)
returns void
language plpgsql
volatile
as $$
begin
  -- Before anything is read: each statement of a VOLATILE function takes a fresh snapshot, so the update below
  -- sees every status callback committed before this lock was granted (recordDeliveryStatus takes the same one).
  perform pg_advisory_xact_lock(p_lock_class, hashtext(p_sid));
  with candidates as (
    select p_status as status, 0 as turn
    union all select status, 1 from deliveries where id = p_part_id
    union all select status, 2 from delivery_events where provider_message_id = p_sid
  ), best as (
    select status from candidates order by coalesce((p_ranks ->> status)::integer, -1) desc, turn limit 1
  )
  update deliveries set
    provider_message_id = p_sid,
    status = best.status,
    sent_at = coalesce(deliveries.sent_at, now()),
    updated_at = now(),
    -- The send went through: an earlier attempt's error is history. A failure now can only come from a status
    -- callback for this SID, which carries its own code (and no message).
    error_code = case when best.status in ('failed', 'undelivered', 'canceled') then
      (select error_code from delivery_events
        where provider_message_id = p_sid and status = best.status and error_code is not null
        limit 1) end,
    error_message = null
  from best
  where deliveries.id = p_part_id;
end
$$;
--> statement-breakpoint
-- recordDeliveryStatus (src/db/deliveries.ts) in one round trip instead of six: a status callback comes several
-- times per part sent (sent, delivered, read). Returns whether a stored part has this SID; the event is kept
-- either way, for record_sent to apply when the SID arrives.
create or replace function record_delivery_status(p_sid text, p_status text, p_error_code text, p_ranks jsonb,
  p_lock_class integer)
returns boolean
language plpgsql
volatile
as $$
declare
  v_part_id uuid;
  v_current text;
begin
  perform pg_advisory_xact_lock(p_lock_class, hashtext(p_sid));
  insert into delivery_events (provider_message_id, status, error_code)
  values (p_sid, p_status, p_error_code)
  on conflict do nothing;
  select id, status into v_part_id, v_current from deliveries where provider_message_id = p_sid;
  if v_part_id is null then
    return false;
  end if;
  -- A status only replaces one of lower rank; a failure keeps its error code.
  if coalesce((p_ranks ->> p_status)::integer, -1) > coalesce((p_ranks ->> v_current)::integer, -1) then
    update deliveries set
      status = p_status,
      updated_at = now(),
      error_code = case when p_status in ('failed', 'undelivered', 'canceled') and p_error_code is not null
        then p_error_code else error_code end
    where id = v_part_id;
  end if;
  return true;
end
$$;
