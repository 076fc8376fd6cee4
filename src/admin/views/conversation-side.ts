/**
 * The conversation page's side column: the facts, the handoff and its assignee (with the assignment form), and
 * the internal notes, which only operators see.
 */
import type { ConversationNote } from '../../db/conversation-notes.js';
import type { Conversation } from '../../db/conversations.js';
import type { HandoffFacts, Operator } from '../../db/inbox.js';
import { can } from '../../domain/roles.js';
import { html, type SafeHtml } from '../html.js';
import type { AdminSession } from '../sessions.js';
import { csrfField, facts, formatNumber, time } from './components.js';
import { formatWait } from './wait-time.js';

export function conversationFacts(c: Conversation, total: number): SafeHtml {
  const number = c.userAddress.replace(/^whatsapp:/, '');
  return html`<section class="card side-card" aria-labelledby="facts-title">
    <h2 id="facts-title" class="card-title">Details</h2>
    ${facts([
      ['Channel', c.channel],
      ['Number', number],
      ['Our number', c.businessAddress?.replace(/^whatsapp:/, '') ?? null],
      ['Last activity', time(c.lastActivityAt)],
      ['Context reset', c.contextResetAt ? time(c.contextResetAt) : 'never'],
      ['Messages', formatNumber(total)],
    ])}
  </section>`;
}

function assignForm(input: {
  conversationId: string;
  session: AdminSession;
  handoff: HandoffFacts;
  operators: Operator[];
}): SafeHtml {
  const { session, handoff } = input;
  const mine = handoff.assigneeId === session.userId;
  const action = `/admin/conversations/${input.conversationId}/assign`;
  return html`<div class="assign">
    ${
      mine
        ? ''
        : html`<form method="post" action="${action}">
            ${csrfField(session.csrfToken)}<input type="hidden" name="assignee" value="me" />
            <button type="submit" class="button button-primary">Assign to me</button>
          </form>`
    }
    <form method="post" action="${action}" class="assign-other">
      ${csrfField(session.csrfToken)}
      <label for="assignee">Assign to</label>
      <select id="assignee" name="assignee">
        <option value="">Nobody (unassigned)</option>
        ${input.operators.map(
          (o) =>
            html`<option value="${o.id}" ${o.id === handoff.assigneeId ? 'selected' : ''}>
              ${o.username}
            </option>`,
        )}
      </select>
      <button type="submit" class="button button-secondary">Assign</button>
    </form>
  </div>`;
}

export function handoffCard(input: {
  conversation: Conversation;
  session: AdminSession;
  handoff: HandoffFacts;
  operators: Operator[];
  now: Date;
}): SafeHtml {
  const { conversation: c, handoff } = input;
  const waiting =
    c.mode === 'human' && handoff.handoffAt
      ? html`${formatWait(input.now.getTime() - handoff.handoffAt.getTime())} (since
        ${time(handoff.handoffAt)})`
      : null;
  return html`<section class="card side-card" aria-labelledby="handoff-title">
    <h2 id="handoff-title" class="card-title">Handling</h2>
    ${facts([
      ['Answered by', c.mode === 'human' ? 'a human' : c.mode === 'paused' ? 'nobody (paused)' : 'the bot'],
      ['Waiting', waiting],
      ['Reason', c.mode === 'human' ? handoff.handoffReason : null],
      ['Assigned to', handoff.assigneeName ?? 'nobody'],
      ['Last operator reply', handoff.lastOperatorMessageAt ? time(handoff.lastOperatorMessageAt) : null],
    ])}
    ${can(input.session.role, 'conversations.assign') ? assignForm({ ...input, conversationId: c.id }) : ''}
  </section>`;
}

export function notesCard(input: {
  conversationId: string;
  session: AdminSession;
  notes: ConversationNote[];
}): SafeHtml {
  const { session } = input;
  return html`<section class="card side-card" id="notes" aria-labelledby="notes-title">
    <h2 id="notes-title" class="card-title">Internal notes</h2>
    <p class="muted small">Seen by operators only: never sent to the user, never shown to the model.</p>
    ${
      input.notes.length === 0
        ? html`<p class="muted">No notes yet.</p>`
        : html`<ol class="notes">
            ${input.notes.map(
              (n) =>
                html`<li class="note">
                  <p class="note-body">${n.body}</p>
                  <p class="note-meta muted">${n.authorName} · ${time(n.createdAt)}</p>
                </li>`,
            )}
          </ol>`
    }
    ${
      can(session.role, 'conversations.note')
        ? html`<form
            method="post"
            action="/admin/conversations/${input.conversationId}/notes"
            class="note-form"
          >
            ${csrfField(session.csrfToken)}
            <label for="note-body">Add a note</label>
            <textarea id="note-body" name="body" rows="2" maxlength="5000" required accesskey="n"></textarea>
            <button type="submit" class="button button-secondary">Add note</button>
          </form>`
        : ''
    }
  </section>`;
}
