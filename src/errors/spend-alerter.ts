/**
 * Operators are told when today's model spend crosses 80 % and 100 % of SPEND_CAP_DAILY_USD, through the alert
 * channels (email, webhook). Once per threshold per day is decided before this is called (a spend_alerts row,
 * pipeline/spend-cap.ts), so there is no throttle here. Never throws: an alert that cannot go out is logged.
 */
import { formatUsd } from '../domain/prices.js';
import type { Logger } from '../log.js';
import type { SpendAlert } from '../pipeline/spend-cap.js';
import type { Alerter, Notice } from './alert.js';
import { createRedactor, redactError } from './redact.js';

export function spendNotice(alert: SpendAlert, publicBaseUrl: string | undefined): Notice {
  const capped = alert.percent >= 100;
  const subject = `[whatsapp-ai-chatbot] model spend today at ${alert.percent} % of the daily cap`;
  const lines = [
    `Model spend on ${alert.day} (${alert.timezone}) reached ${formatUsd(alert.spentMicros)}, ` +
      `${alert.percent} % of SPEND_CAP_DAILY_USD (${formatUsd(alert.capMicros)}).`,
    capped
      ? 'The cap is reached: until the day ends, users get the spend-cap notice (or the cheaper model, when ' +
        'SPEND_CAP_FALLBACK_MODEL is set) instead of answers from the usual model.'
      : 'At 100 % every user gets the spend-cap notice (or the cheaper model) until the day ends.',
    ...(publicBaseUrl ? ['', `Costs: ${publicBaseUrl}/admin/costs`] : []),
  ];
  return { subject, text: lines.join('\n') };
}

export function createSpendAlerter(options: {
  alerters: Alerter[];
  log: Logger;
  publicBaseUrl: string | undefined;
  secrets?: ReadonlyArray<string | undefined>;
}): (alert: SpendAlert) => Promise<void> {
  const redact = createRedactor(options.secrets ?? []);
  return async (alert) => {
    const notice = spendNotice(alert, options.publicBaseUrl);
    const results = await Promise.allSettled(options.alerters.map((alerter) => alerter.notify(notice)));
    results.forEach((result, index) => {
      const alerter = options.alerters[index]?.name;
      if (result.status === 'rejected')
        options.log.warn(
          { err: redactError(result.reason, redact), alerter, percent: alert.percent },
          'could not send the spend alert',
        );
      else options.log.info({ alerter, percent: alert.percent, day: alert.day }, 'spend alert sent');
    });
  };
}
