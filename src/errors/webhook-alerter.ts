import { alertText, type Alert, type Alerter } from './alert.js';

const TIMEOUT_MS = 10_000;

const ICON: Record<Alert['severity'], string> = { LOW: 'ℹ️', MEDIUM: '⚠️', HIGH: '🔴', CRITICAL: '🚨' };

/**
 * POST a Slack-compatible message (`text`, plus `blocks` for Slack's richer rendering) to an incoming-webhook
 * URL. Mattermost, Rocket.Chat and most chat tools take the same shape.
 */
export function createWebhookAlerter(url: string): Alerter {
  return {
    name: 'webhook',
    async send(alert) {
      await post(
        url,
        `${ICON[alert.severity]} ${alertText(alert)}`,
        `${alert.severity} ${alert.category}: ${alert.type}`,
        alertText(alert),
      );
    },
    async notify(notice) {
      // A notice carries what users control (a profile name, the model's reason): escaped for the mrkdwn `text`,
      // so "<!channel>" or a "<https://…|link>" in a name pings or links nothing.
      await post(
        url,
        `🙋 ${slackEscape(notice.subject)}\n${slackEscape(notice.text)}`,
        notice.subject,
        notice.text,
      );
    },
  };
}

/** Slack's three control characters in mrkdwn text (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** `text` for any client, `blocks` (a header and a section) for Slack's richer rendering. */
async function post(url: string, text: string, header: string, section: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      text,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: header.slice(0, 150) } },
        { type: 'section', text: { type: 'plain_text', text: section.slice(0, 3000) } },
      ],
    }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  // The body of a refusal may echo the URL's token; only the status goes into our logs.
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the alert webhook answered HTTP ${response.status}`);
}
