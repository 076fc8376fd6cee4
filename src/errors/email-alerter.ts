import { createTransport } from 'nodemailer';
import type { EmailAlertSettings } from '../config/load.js';
import { alertSubject, alertText, type Alerter } from './alert.js';

/** A hung mail server must not hold an alert (and its process) for minutes. */
const TIMEOUT_MS = 10_000;

/** Alerts by email over SMTP (nodemailer). One transport per process; a connection per alert (they are rare). */
export function createEmailAlerter(settings: EmailAlertSettings): Alerter {
  const transport = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  return {
    name: 'email',
    async send(alert) {
      await transport.sendMail({
        from: settings.from,
        to: settings.to,
        subject: alertSubject(alert),
        text: alertText(alert),
      });
    },
    async notify(notice) {
      await transport.sendMail({
        from: settings.from,
        to: settings.to,
        subject: `[whatsapp-ai-chatbot] ${notice.subject}`,
        text: notice.text,
      });
    },
  };
}
