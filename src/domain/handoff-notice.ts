/** What operators are told when a conversation is handed to a human: who, why, and where to answer it. */

export interface HandoffEvent {
  conversationId: string;
  /** The user's WhatsApp profile name, when the channel gave one. */
  profileName: string | null;
  /** The user's address on the channel (`whatsapp:+15551234567`). */
  userAddress: string;
  /** The handoff's reason as switchMode got it: `keyword`, `model: <reason>`, `operator`, … */
  reason: string;
  /** Who switched it (`system`, `model`, an operator's name). */
  actorName: string;
}

/** Subject and plain text of the notification; the link only when the deployment has a public URL. */
export function handoffNotice(
  event: HandoffEvent,
  publicBaseUrl: string | undefined,
): { subject: string; text: string } {
  const who = event.profileName ? `${event.profileName} (${event.userAddress})` : event.userAddress;
  const link = publicBaseUrl ? `${publicBaseUrl}/admin/conversations/${event.conversationId}` : undefined;
  return {
    subject: `Conversation needs a human: ${who}`,
    text: [
      `Conversation needs a human: ${who}, reason: ${describeReason(event.reason)}.`,
      `Switched by: ${event.actorName}. The bot is silent in this conversation until it is handed back.`,
      link ? `Open it: ${link}` : `Conversation id: ${event.conversationId}`,
    ].join('\n'),
  };
}

function describeReason(reason: string): string {
  if (reason === 'keyword') return 'the user asked for a person';
  if (reason.startsWith('model: ')) return `the model handed it over (${reason.slice('model: '.length)})`;
  return reason;
}
