import { parseSentinelUrl } from '../infra/redis/address.js';
import { urlPassword } from '../security/url-password.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../log.js';
import type { Locks } from '../ports.js';
import type { Alerter } from './alert.js';
import { createEmailAlerter } from './email-alerter.js';
import { createErrorReporter, type ErrorMetrics, type ErrorReporter } from './reporter.js';
import { createWebhookAlerter } from './webhook-alerter.js';

/** The alert channels the configuration names: none, email, the chat webhook, or both. */
export function alertersFromConfig(alerts: Config['alerts']): Alerter[] {
  return [
    ...(alerts.email ? [createEmailAlerter(alerts.email)] : []),
    ...(alerts.webhookUrl ? [createWebhookAlerter(alerts.webhookUrl)] : []),
  ];
}

/** Whether any alert channel is configured: without one, HIGH and CRITICAL errors only reach the log. */
export function hasAlertChannel(alerts: Config['alerts']): boolean {
  return alerts.email !== null || Boolean(alerts.webhookUrl);
}

/** Every secret value the configuration holds, so the reporter can take them out of what it writes. */
export function configSecrets(config: Config): string[] {
  // redis+sentinel:// carries the data servers' password and maybe the Sentinels' own.
  const sentinel = config.redis.kind === 'redis' ? parseSentinelUrl(config.redis.url) : { error: '' };
  const sentinelSecrets = 'error' in sentinel ? [] : [sentinel.password, sentinel.sentinelPassword];
  return [
    config.twilio?.authToken,
    config.meta?.accessToken,
    config.meta?.appSecret,
    config.meta?.verifyToken,
    config.media.store.kind === 's3' ? config.media.store.secretAccessKey : undefined,
    config.ai.apiKey,
    config.aiFallback?.apiKey,
    config.alerts.email?.password,
    config.fieldEncryption.key,
    config.fieldEncryption.previousKey,
    config.metrics.token,
    config.database.kind === 'postgres' ? urlPassword(config.database.url) : undefined,
    config.redis.kind === 'redis' ? urlPassword(config.redis.url) : undefined,
    ...sentinelSecrets,
    config.alerts.webhookUrl ? new URL(config.alerts.webhookUrl).pathname : undefined,
  ].filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
}

/** The reporter of a process: its log, the shared throttle, the configured alert channels. */
export function reporterFromConfig(
  config: Config,
  log: Logger,
  locks: Pick<Locks, 'claimOnce'>,
  metrics?: ErrorMetrics,
): ErrorReporter {
  return createErrorReporter({
    log: log.child({ area: 'errors' }),
    locks,
    alerters: alertersFromConfig(config.alerts),
    secrets: configSecrets(config),
    ...(metrics ? { metrics } : {}),
  });
}
