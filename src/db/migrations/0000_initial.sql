CREATE TABLE "admin_users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"username" text NOT NULL,
	"password_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_login_at" timestamp with time zone,
	CONSTRAINT "admin_users_username_key" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "ai_configurations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"api_key_encrypted" text,
	"model" text NOT NULL,
	"base_url" text,
	"system_prompt" text,
	"temperature" real,
	"max_tokens" integer,
	"is_active" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_configurations_name_key" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"user_address" text NOT NULL,
	"business_address" text,
	"profile_name" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"bot_paused" boolean DEFAULT false NOT NULL,
	"context_reset_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_activity_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conversations_channel_user_address_key" UNIQUE("channel","user_address"),
	CONSTRAINT "conversations_channel_check" CHECK ("channel" in ('twilio', 'meta', 'simulator'))
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"part_index" integer NOT NULL,
	"part_count" integer NOT NULL,
	"body" text NOT NULL,
	"to_address" text NOT NULL,
	"from_address" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"provider_message_id" text,
	"error_code" text,
	"error_message" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sending_started_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deliveries_provider_message_id_key" UNIQUE("provider_message_id"),
	CONSTRAINT "deliveries_message_part_key" UNIQUE("message_id","part_index"),
	CONSTRAINT "deliveries_status_check" CHECK ("status" in ('pending', 'sending', 'queued', 'accepted', 'scheduled', 'sent', 'failed', 'undelivered', 'canceled', 'unknown', 'delivered', 'read'))
);
--> statement-breakpoint
CREATE TABLE "delivery_events" (
	"provider_message_id" text NOT NULL,
	"status" text NOT NULL,
	"error_code" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delivery_events_pkey" PRIMARY KEY("provider_message_id","status"),
	CONSTRAINT "delivery_events_status_check" CHECK ("status" in ('pending', 'sending', 'queued', 'accepted', 'scheduled', 'sent', 'failed', 'undelivered', 'canceled', 'unknown', 'delivered', 'read'))
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"conversation_id" uuid NOT NULL,
	"role" text NOT NULL,
	"content" text NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"provider_message_id" text,
	"processing_status" text,
	"reply_to_message_id" uuid,
	"model" text,
	"provider" text,
	"input_tokens" integer,
	"output_tokens" integer,
	"latency_ms" integer,
	"error_kind" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_provider_message_id_key" UNIQUE("provider_message_id"),
	CONSTRAINT "messages_reply_to_message_id_key" UNIQUE("reply_to_message_id"),
	CONSTRAINT "messages_role_check" CHECK ("role" in ('user', 'assistant', 'system')),
	CONSTRAINT "messages_processing_status_check" CHECK ("processing_status" in ('pending', 'answered', 'skipped', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"kind" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"body" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"response_status" integer NOT NULL,
	"processing_time_ms" real NOT NULL,
	"error" text,
	"provider_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_logs_kind_check" CHECK ("kind" in ('inbound', 'status'))
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_reply_to_message_id_messages_id_fk" FOREIGN KEY ("reply_to_message_id") REFERENCES "public"."messages"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ai_configurations_one_active_idx" ON "ai_configurations" USING btree ("is_active") WHERE "is_active";--> statement-breakpoint
CREATE INDEX "conversations_idle_idx" ON "conversations" USING btree ("last_activity_at") WHERE "is_active";--> statement-breakpoint
CREATE INDEX "deliveries_unsent_idx" ON "deliveries" USING btree ("conversation_id","updated_at") WHERE "status" in ('pending', 'sending');--> statement-breakpoint
CREATE INDEX "messages_conversation_created_idx" ON "messages" USING btree ("conversation_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_pending_idx" ON "messages" USING btree ("created_at") WHERE "processing_status" = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_logs_created_idx" ON "webhook_logs" USING btree ("created_at");