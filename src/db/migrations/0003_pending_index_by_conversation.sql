DROP INDEX "messages_pending_idx";--> statement-breakpoint
CREATE INDEX "messages_pending_idx" ON "messages" USING btree ("conversation_id","created_at") WHERE "processing_status" = 'pending';