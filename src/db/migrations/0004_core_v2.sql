CREATE TABLE "model_calls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" uuid NOT NULL,
	"inbound_message_id" uuid,
	"outbound_message_id" uuid,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"outcome" text NOT NULL,
	"error_kind" text,
	"input_tokens" integer,
	"output_tokens" integer,
	"latency_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_calls_outcome_check" CHECK ("outcome" in ('used', 'discarded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_reply_to_message_id_key";--> statement-breakpoint
ALTER TABLE "messages" DROP CONSTRAINT "messages_processing_status_check";--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "reply_address" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "mode" text DEFAULT 'bot' NOT NULL;--> statement-breakpoint
ALTER TABLE "deliveries" ADD COLUMN "payload" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "content_type" text DEFAULT 'text' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "payload" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "outcome_reason" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "author" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "outbound_key" text;--> statement-breakpoint
ALTER TABLE "model_calls" ADD CONSTRAINT "model_calls_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_calls" ADD CONSTRAINT "model_calls_inbound_message_id_messages_id_fk" FOREIGN KEY ("inbound_message_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_calls" ADD CONSTRAINT "model_calls_outbound_message_id_messages_id_fk" FOREIGN KEY ("outbound_message_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "model_calls_conversation_idx" ON "model_calls" USING btree ("conversation_id","created_at");--> statement-breakpoint
CREATE INDEX "model_calls_created_idx" ON "model_calls" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_outbound_key_key" UNIQUE("outbound_key");--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_mode_check" CHECK ("mode" in ('bot', 'human', 'paused'));--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_content_type_check" CHECK ("content_type" in ('text', 'media', 'location', 'contacts', 'interactive_reply', 'reaction', 'template', 'unsupported'));--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_processing_status_check" CHECK ("processing_status" in ('pending', 'answered', 'notice', 'skipped', 'failed'));--> statement-breakpoint
-- Data: the pause flag becomes a mode; notices and refusals get their outcome. Old replies keep a null
-- outbound_key: every message they answer is already closed, so no retried job can store them again.
UPDATE "conversations" SET "mode" = 'paused' WHERE "bot_paused";--> statement-breakpoint
-- Only the notices need an author: a null author reads as 'assistant' (db/messages.ts), so the (many) replies
-- are not rewritten.
UPDATE "messages" SET "author" = 'system'
  WHERE "role" = 'assistant' AND "error_kind" IN ('too_long', 'rate_limited');--> statement-breakpoint
UPDATE "messages" SET
  "processing_status" = CASE WHEN "processing_status" = 'answered' THEN 'notice' ELSE "processing_status" END,
  "outcome_reason" = "metadata"->>'refused'
  WHERE "role" = 'user' AND "metadata" ? 'refused';--> statement-breakpoint
UPDATE "messages" SET "outcome_reason" = 'mode_paused'
  WHERE "role" = 'user' AND "processing_status" = 'skipped' AND "outcome_reason" IS NULL
    AND "metadata"->>'processingNote' = 'bot paused for human handling';
