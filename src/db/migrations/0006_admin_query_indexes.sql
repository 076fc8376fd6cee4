CREATE INDEX IF NOT EXISTS "conversations_last_activity_idx" ON "conversations" USING btree ("last_activity_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "conversations_paused_idx" ON "conversations" USING btree ("last_activity_at" DESC NULLS FIRST,"id") WHERE "mode" <> 'bot';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "deliveries_failed_idx" ON "deliveries" USING btree ("updated_at") WHERE "status" in ('failed', 'undelivered');--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "delivery_events_received_idx" ON "delivery_events" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "messages_role_created_idx" ON "messages" USING btree ("role","created_at");--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "messages_ai_fallback_idx" ON "messages" USING btree ("created_at") WHERE "error_kind" is not null;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "webhook_logs_problem_idx" ON "webhook_logs" USING btree ("created_at") WHERE "error" is not null or "response_status" >= 400;