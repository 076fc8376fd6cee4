/**
 * What an operator does on a conversation page, each shown only to roles that may do it: switch who answers
 * (hand to a human, resume the bot, pause), reset the model's context, and the composer.
 */
import type { Conversation } from '../../db/conversations.js';
import { can, type OperatorRole } from '../../domain/roles.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from './components.js';
import { composerWindowHint, type ConversationWindow } from './conversation-window.js';

function actionForm(input: {
  id: string;
  csrf: string;
  path: string;
  label: string;
  style: string;
  fields?: Record<string, string>;
  confirm?: string;
}): SafeHtml {
  return html`<form
    method="post"
    action="/admin/conversations/${input.id}/${input.path}"
    ${input.confirm ? html`data-confirm="${input.confirm}"` : ''}
  >
    ${csrfField(input.csrf)}
    ${Object.entries(input.fields ?? {}).map(
      ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
    )}
    <button type="submit" class="button ${input.style}">${input.label}</button>
  </form>`;
}

/** The mode buttons for the modes the conversation is not in, and the context reset. */
export function conversationActions(c: Conversation, role: OperatorRole, csrf: string): SafeHtml {
  const forms: SafeHtml[] = [];
  if (can(role, 'conversations.mode')) {
    const mode = (target: string, label: string, style: string, confirm?: string) =>
      actionForm({
        id: c.id,
        csrf,
        path: 'mode',
        label,
        style,
        fields: { mode: target },
        ...(confirm ? { confirm } : {}),
      });
    if (c.mode !== 'human')
      forms.push(
        mode(
          'human',
          'Hand to a human',
          'button-primary',
          'Hand this conversation to a human? The user is told a person will answer, and the bot stays silent.',
        ),
      );
    if (c.mode !== 'bot')
      forms.push(mode('bot', 'Resume bot', c.mode === 'paused' ? 'button-primary' : 'button-secondary'));
    if (c.mode !== 'paused')
      forms.push(
        mode(
          'paused',
          'Pause bot',
          'button-secondary',
          'Pause the bot? New messages will be stored but not answered, and nobody is notified.',
        ),
      );
  }
  if (can(role, 'conversations.reset'))
    forms.push(
      actionForm({
        id: c.id,
        csrf,
        path: 'reset-context',
        label: 'Reset context',
        style: 'button-secondary',
        confirm: 'Reset the context? The model will no longer see the earlier messages.',
      }),
    );
  return forms.length === 0 ? html`` : html`<div class="actions">${forms}</div>`;
}

/** Longest text the composer takes; the outbound path splits it into WhatsApp-sized parts. */
export const MAX_REPLY_LENGTH = 4000;

/**
 * The reply form. `requestKey` is a fresh nonce per page: a double submit of the same form sends once. Without
 * JavaScript it posts and comes back to the page; admin.js sends it in the background and the live thread shows it.
 */
export function composer(input: {
  conversation: Conversation;
  username: string;
  csrf: string;
  requestKey: string;
  /** Why nothing can be sent (the user opted out): the composer is shown disabled with it. */
  blockedReason?: string | null;
  window: ConversationWindow;
}): SafeHtml {
  const c = input.conversation;
  const blocked = input.blockedReason ?? null;
  const warning = blocked
    ? html`<p class="composer-warning" id="composer-blocked">${blocked}</p>`
    : c.mode === 'bot'
      ? html`<p class="composer-warning">
          The bot also answers this conversation. Hand it to a human to keep it quiet.
        </p>`
      : '';
  return html`<form
    class="composer"
    id="composer"
    method="post"
    action="/admin/conversations/${c.id}/messages"
    data-composer
  >
    ${csrfField(input.csrf)}
    <input type="hidden" name="requestKey" value="${input.requestKey}" />
    <label for="composer-text">Reply on WhatsApp</label>
    ${warning} ${composerWindowHint(input.window)}
    <textarea
      id="composer-text"
      name="text"
      rows="3"
      maxlength="${MAX_REPLY_LENGTH}"
      required
      accesskey="r"
      aria-describedby="${blocked ? 'composer-blocked composer-hint' : 'composer-hint'}"
      ${blocked ? 'disabled' : ''}
    ></textarea>
    <div class="composer-bar">
      <p id="composer-hint" class="muted">
        Sent as ${input.username}. <kbd>Ctrl</kbd>+<kbd>Enter</kbd> (<kbd>⌘</kbd>+<kbd>Enter</kbd>) sends.
      </p>
      <span class="composer-status" role="status" aria-live="polite"></span>
      <button type="submit" class="button button-primary" ${blocked ? 'disabled' : ''}>Send</button>
    </div>
  </form>`;
}
