CREATE INDEX "messages_reply_to_idx" ON "messages" USING btree ("reply_to_message_id");--> statement-breakpoint
ALTER TABLE "conversations" DROP COLUMN "bot_paused";