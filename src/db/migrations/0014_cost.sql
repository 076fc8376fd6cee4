-- Issue #18 (cost): each model call's cost in micro-dollars (1e-6 USD) and the day (in TIMEZONE) it counts for,
-- fixed when the call is recorded so history does not follow later price changes; an AI configuration's own
-- price; spend per day counted by a trigger on model_calls into spend_daily (global, per user, number, model),
-- so the caps see every worker's calls the moment they are recorded; and the daily spend alerts sent.
CREATE TABLE "spend_alerts" (
	"day" date NOT NULL,
	"percent" integer NOT NULL,
	"spent_micros" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "spend_alerts_day_percent_pk" PRIMARY KEY("day","percent")
);
--> statement-breakpoint
CREATE TABLE "spend_daily" (
	"day" date NOT NULL,
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"shard" smallint NOT NULL,
	"cost_micros" bigint DEFAULT 0 NOT NULL,
	"calls" integer DEFAULT 0 NOT NULL,
	"unpriced_calls" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "spend_daily_day_scope_key_shard_pk" PRIMARY KEY("day","scope","key","shard"),
	CONSTRAINT "spend_daily_scope_check" CHECK ("scope" in ('global', 'user', 'number', 'model'))
);
--> statement-breakpoint
ALTER TABLE "ai_configurations" ADD COLUMN "input_price_usd" double precision;--> statement-breakpoint
ALTER TABLE "ai_configurations" ADD COLUMN "output_price_usd" double precision;--> statement-breakpoint
ALTER TABLE "model_calls" ADD COLUMN "cost_micros" bigint;--> statement-breakpoint
ALTER TABLE "model_calls" ADD COLUMN "spend_day" date;--> statement-breakpoint
-- Every recorded call with a day adds itself to its day's rows, in the statement that records it: atomic with the
-- call, the same for every worker and every path that records calls. The rows of one statement all belong to one
-- conversation, so they land in one shard (0-15); the global row of that shard is always taken first, so two
-- statements never wait for each other in opposite orders (no deadlock), and 16 shards let 16 of them run at once.
create or replace function count_model_call_spend()
returns trigger
language plpgsql
as $$
declare
  conv record;
  v_shard smallint := (hashtext(new.conversation_id::text) & 15)::smallint;
  v_cost bigint := coalesce(new.cost_micros, 0);
  v_unpriced integer := case when new.cost_micros is null then 1 else 0 end;
begin
  select channel, user_address, business_address into conv from conversations where id = new.conversation_id;
  insert into spend_daily as s (day, scope, key, shard, cost_micros, calls, unpriced_calls)
  values
    (new.spend_day, 'global', '', v_shard, v_cost, 1, v_unpriced),
    (new.spend_day, 'model', new.model, v_shard, v_cost, 1, v_unpriced),
    (new.spend_day, 'number', conv.channel || ':' || conv.business_address, v_shard, v_cost, 1, v_unpriced),
    (new.spend_day, 'user', conv.channel || ':' || conv.user_address, v_shard, v_cost, 1, v_unpriced)
  on conflict (day, scope, key, shard) do update set
    cost_micros = s.cost_micros + excluded.cost_micros,
    calls = s.calls + excluded.calls,
    unpriced_calls = s.unpriced_calls + excluded.unpriced_calls;
  return null;
end
$$;--> statement-breakpoint
create trigger model_calls_count_spend
after insert on model_calls
for each row when (new.spend_day is not null)
execute function count_model_call_spend();
