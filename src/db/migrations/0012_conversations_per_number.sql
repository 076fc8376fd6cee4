-- Conversations are keyed by (channel, person, business number). A conversation without a business number (none
-- in a deployment whose webhook always had Twilio's To; possible in older data) gets '', the channel's default
-- number: it keeps its key, and the pipeline sends its replies from the default as before.
UPDATE "conversations" SET "business_address" = '' WHERE "business_address" IS NULL;--> statement-breakpoint
ALTER TABLE "conversations" ALTER COLUMN "business_address" SET DEFAULT '';--> statement-breakpoint
ALTER TABLE "conversations" ALTER COLUMN "business_address" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_channel_user_business_key" UNIQUE("channel","user_address","business_address");--> statement-breakpoint
ALTER TABLE "conversations" DROP CONSTRAINT "conversations_channel_user_address_key";
