/** The page frame: head, skip link, top bar with the navigation and logout, the main region. */
import { can, type Permission } from '../../domain/roles.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { csrfField } from './components.js';

export type Section =
  'dashboard' | 'inbox' | 'conversations' | 'costs' | 'ai-configs' | 'numbers' | 'webhook-logs' | 'audit';

export interface Frame {
  title: string;
  section?: Section;
  /** Absent on the login page: no navigation then. */
  session?: AdminSession;
  simulatorEnabled?: boolean;
}

/** Each entry with the permission its page needs (routes.ts enforces it): a role sees only what it may open. */
const NAV: Array<[Section, string, string, Permission]> = [
  ['dashboard', 'Dashboard', '/admin/', 'conversations.read'],
  ['inbox', 'Inbox', '/admin/inbox', 'conversations.read'],
  ['conversations', 'Conversations', '/admin/conversations', 'conversations.read'],
  ['costs', 'Costs', '/admin/costs', 'conversations.read'],
  ['ai-configs', 'AI configurations', '/admin/ai-configs', 'settings.manage'],
  ['numbers', 'Numbers', '/admin/numbers', 'settings.manage'],
  ['webhook-logs', 'Webhook logs', '/admin/webhook-logs', 'webhooks.read'],
  ['audit', 'Audit log', '/admin/audit', 'audit.read'],
];

function navigation(frame: Frame, session: AdminSession): SafeHtml {
  return html`<nav class="nav" aria-label="Main">
      <ul>
        ${NAV.filter(([, , , permission]) => can(session.role, permission)).map(
          ([key, label, href]) =>
            html`<li>
              <a href="${href}" ${key === frame.section ? html`aria-current="page"` : ''}>${label}</a>
            </li>`,
        )}
        ${
          frame.simulatorEnabled
            ? html`<li><a href="/simulator/" target="_blank" rel="noopener">Simulator ↗</a></li>`
            : ''
        }
      </ul>
    </nav>
    <form class="logout" method="post" action="/admin/logout">
      ${csrfField(session.csrfToken)}
      <span class="who" title="Signed in as ${session.role}">${session.username}</span>
      <button type="submit" class="button button-ghost">Log out</button>
    </form>`;
}

export function layout(frame: Frame, body: HtmlValue): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>${frame.title} · Chatbot admin</title>
        <link rel="stylesheet" href="/admin/static/admin.css" />
        <link rel="icon" href="/admin/static/icon.svg" type="image/svg+xml" />
        <script type="module" src="/admin/static/admin.js"></script>
      </head>
      <body class="${frame.session ? 'signed-in' : 'signed-out'}">
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <div class="topbar-inner">
            <a class="brand" href="/admin/"
              ><img src="/admin/static/icon.svg" alt="" width="28" height="28" /><span>Chatbot admin</span></a
            >
            ${frame.session ? navigation(frame, frame.session) : ''}
          </div>
        </header>
        <main id="main" class="container" tabindex="-1">${body}</main>
      </body>
    </html>`;
}
