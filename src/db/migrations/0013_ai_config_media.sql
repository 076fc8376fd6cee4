-- Issue #15: per AI configuration, whether the model sees images (null: the table of well-known vision models
-- decides), and whether a voice note is answered with a voice note too, in which voice. Adding nullable or
-- defaulted columns takes a brief lock only, no table rewrite.
ALTER TABLE "ai_configurations" ADD COLUMN "vision" boolean;--> statement-breakpoint
ALTER TABLE "ai_configurations" ADD COLUMN "voice_answers" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "ai_configurations" ADD COLUMN "voice" text;