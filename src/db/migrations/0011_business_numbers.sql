CREATE TABLE "business_numbers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"channel" text NOT NULL,
	"address" text NOT NULL,
	"name" text,
	"ai_config_id" uuid,
	"credentials_encrypted" text,
	"is_active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "business_numbers_channel_address_key" UNIQUE("channel","address"),
	CONSTRAINT "business_numbers_channel_check" CHECK ("channel" in ('twilio', 'meta'))
);
--> statement-breakpoint
ALTER TABLE "business_numbers" ADD CONSTRAINT "business_numbers_ai_config_id_ai_configurations_id_fk" FOREIGN KEY ("ai_config_id") REFERENCES "public"."ai_configurations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "conversation_notes_created_idx" ON "conversation_notes" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_logs_provider_message_idx" ON "webhook_logs" USING btree ("provider_message_id") WHERE "provider_message_id" is not null;