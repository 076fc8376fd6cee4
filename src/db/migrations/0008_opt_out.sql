CREATE TABLE "opt_outs" (
	"channel" text NOT NULL,
	"address" text NOT NULL,
	"opted_out_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"source" text NOT NULL,
	"keyword" text,
	CONSTRAINT "opt_outs_channel_address_pk" PRIMARY KEY("channel","address")
);
