/**
 * One Meta number asked about itself: `GET /{phone-number-id}?fields=display_phone_number,verified_name,
 * quality_rating` with its token proves both that the token is valid and that the id is reachable with it
 * (`chatbot validate-config`).
 */
import type { GraphApiSettings } from '../../config/channels.js';
import { createGraphClient } from './client.js';

export interface MetaNumberInfo {
  displayPhoneNumber: string | null;
  verifiedName: string | null;
  /** GREEN, YELLOW, RED or UNKNOWN, as Meta rates the number's recent messages. */
  qualityRating: string | null;
}

const CHECK_TIMEOUT_MS = 10_000;

export async function fetchMetaNumber(
  graph: GraphApiSettings,
  phoneNumberId: string,
  token: string,
): Promise<MetaNumberInfo> {
  const answer = await createGraphClient(graph, CHECK_TIMEOUT_MS).call({
    method: 'GET',
    path: `/${encodeURIComponent(phoneNumberId)}`,
    token,
    query: { fields: 'display_phone_number,verified_name,quality_rating' },
    action: 'number check',
  });
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  return {
    displayPhoneNumber: text(answer.display_phone_number),
    verifiedName: text(answer.verified_name),
    qualityRating: text(answer.quality_rating),
  };
}

/**
 * The apps subscribed to a WhatsApp Business Account's webhooks (`GET /{waba-id}/subscribed_apps` → `{"data":
 * [{"whatsapp_business_api_data": {"id", "name", …}}]}`): none means Meta delivers this account's messages to
 * nobody.
 */
export async function fetchSubscribedApps(
  graph: GraphApiSettings,
  businessAccountId: string,
  token: string,
): Promise<string[]> {
  const answer = await createGraphClient(graph, CHECK_TIMEOUT_MS).call({
    method: 'GET',
    path: `/${encodeURIComponent(businessAccountId)}/subscribed_apps`,
    token,
    action: 'webhook subscription check',
  });
  const data = Array.isArray(answer.data) ? (answer.data as unknown[]) : [];
  return data.map((entry) => {
    const app = (entry as { whatsapp_business_api_data?: { name?: unknown; id?: unknown } })
      .whatsapp_business_api_data;
    return typeof app?.name === 'string' ? app.name : typeof app?.id === 'string' ? app.id : 'an app';
  });
}
