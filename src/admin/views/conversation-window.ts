/**
 * WhatsApp's 24-hour window as the operator reads it: on the conversation page (open until when, or closed and
 * what a reply will become), and on the messages it changed (a text sent as the window template, a delivery that
 * failed outside the window and the template that followed it).
 */
import { isWindowFailure, type WindowNote, type WindowState } from '../../domain/window.js';
import { html, type SafeHtml } from '../html.js';
import { badge, time } from './components.js';

export interface ConversationWindow {
  state: WindowState;
  /** The channel has no window (the simulator). */
  applies: boolean;
  /** A window template is configured for the conversation's channel (WINDOW_TEMPLATE). */
  template: boolean;
}

/** One line for the page's head: "Window open until …" or "Window closed: only templates". */
export function windowStatus(window: ConversationWindow): SafeHtml {
  if (!window.applies) return html``;
  const { open, closesAt } = window.state;
  if (open && closesAt)
    return html`<p class="window-status" data-window="open">
      ${badge('window open', 'good')} Window open until ${time(closesAt)}
    </p>`;
  return html`<p class="window-status" data-window="closed">
    ${badge('window closed', 'warn')} Window closed: only templates
    <span class="muted"
      >(${closesAt ? html`since ${time(closesAt)}` : 'the user has never written'}; it opens again when the
      user writes)</span
    >
  </p>`;
}

/** Under the composer of a closed window: what a reply will become. */
export function composerWindowHint(window: ConversationWindow): SafeHtml {
  if (!window.applies || window.state.open) return html``;
  return html`<p class="composer-warning" data-window-hint>
    ${
      window.template
        ? 'The 24-hour window is closed: your text will not be sent; the window template (WINDOW_TEMPLATE) goes instead.'
        : 'The 24-hour window is closed: WhatsApp only allows templates, and none is configured (WINDOW_TEMPLATE), so a reply will be refused.'
    }
  </p>`;
}

/** A message that is the window template: why it went. */
export function windowNoteHtml(note: WindowNote | null): SafeHtml {
  if (!note) return html``;
  if (note.reason === 'outside_window')
    return html`<p class="window-note">
      ${badge('window template', 'warn')} Sent instead of the ${note.replaced} written outside the 24-hour
      window ${note.text ? html`(not sent: <q>${note.text}</q>)` : ''}
    </p>`;
  return html`<p class="window-note">
    ${badge('window template', 'warn')} Sent after an earlier message failed outside the 24-hour window (error
    ${note.errorCode})
  </p>`;
}

/** A failed part's code, with what it means when it is the window's. */
export function deliveryErrorHtml(code: string | null): SafeHtml {
  if (!code) return html``;
  return isWindowFailure(code)
    ? html`<code>error ${code}</code> <span class="muted">outside the 24-hour window</span>`
    : html`<code>error ${code}</code>`;
}
