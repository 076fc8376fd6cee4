/* global document, window, CSS, HTMLFormElement, HTMLButtonElement, HTMLTextAreaElement, HTMLInputElement, HTMLElement, fetch, URLSearchParams, FormData, setTimeout, crypto */
// Progressive enhancement only: every page works without this file. No inline handlers (the CSP forbids
// them), so behaviour hangs off data- attributes.

// <form data-confirm="Question?">: ask before a destructive or disruptive action.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // <form data-busy="Testing…">: show that a slow request (a live model call) is under way, and stop double posts.
  const busy = form.dataset.busy;
  const button = form.querySelector('button[type="submit"]');
  if (busy && button instanceof HTMLButtonElement) {
    button.textContent = busy;
    button.setAttribute('aria-busy', 'true');
    setTimeout(() => (button.disabled = true), 0);
  }
});

// ── The live thread: <ol data-live="/admin/conversations/<id>/events"> ─────────────────────────────────────
// Each event carries one message rendered (and escaped) by the server; it is appended in time order, or replaces
// the message it updates (a delivery tick). The list follows new messages when it was scrolled to the end.
const thread = document.querySelector('ol[data-live]');
const scroller = document.querySelector('.thread-scroll');

function atEnd() {
  if (!(scroller instanceof HTMLElement) || scroller.scrollHeight <= scroller.clientHeight) return true;
  return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
}

function toEnd() {
  if (scroller instanceof HTMLElement) scroller.scrollTop = scroller.scrollHeight;
}

/** The server's markup for one message, parsed into an element (never executed: a template is inert). */
function parseBubble(markup) {
  const template = document.createElement('template');
  template.innerHTML = markup;
  const element = template.content.firstElementChild;
  return element instanceof HTMLElement && element.matches('li[data-message-id]') ? element : null;
}

function place(list, bubble) {
  const existing = list.querySelector(`li[data-message-id="${CSS.escape(bubble.dataset.messageId ?? '')}"]`);
  if (existing instanceof HTMLElement) {
    if (existing.dataset.version !== bubble.dataset.version) existing.replaceWith(bubble);
    return;
  }
  // Append after the last message that is not newer (a late commit may arrive after a younger message).
  const at = bubble.dataset.at ?? '';
  let before = null;
  for (const item of Array.from(list.querySelectorAll('li[data-at]')).reverse()) {
    if ((item.getAttribute('data-at') ?? '') <= at) break;
    before = item;
  }
  bubble.classList.add('bubble-new');
  list.insertBefore(bubble, before);
  document.querySelector('.thread-empty')?.remove();
}

if (thread instanceof HTMLElement && thread.dataset.live && 'EventSource' in window) {
  toEnd();
  const source = new window.EventSource(thread.dataset.live);
  source.addEventListener('message', (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    const bubble = typeof data.html === 'string' ? parseBubble(data.html) : null;
    if (!bubble) return;
    const follow = atEnd();
    place(thread, bubble);
    if (follow) toEnd();
  });
  thread.dataset.connected = 'true';
}

// ── The composer: Ctrl/Cmd+Enter sends; sent in the background, the live thread shows the message ──────────
const composer = document.querySelector('form[data-composer]');
if (composer instanceof HTMLFormElement) {
  const text = composer.querySelector('textarea');
  const status = composer.querySelector('.composer-status');
  const button = composer.querySelector('button[type="submit"]');
  const key = composer.querySelector('input[name="requestKey"]');
  let sending = false;
  if (text instanceof HTMLTextAreaElement && window.location.hash === '#composer') text.focus();

  text?.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });

  /** The server refused the message for a reason it states; not a connection problem. */
  class Refused extends Error {}

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    if (sending || !(text instanceof HTMLTextAreaElement) || text.value.trim() === '') return;
    sending = true;
    if (button instanceof HTMLButtonElement) button.disabled = true;
    if (status) status.textContent = 'Sending…';
    const body = new URLSearchParams();
    for (const [name, value] of new FormData(composer))
      if (typeof value === 'string') body.append(name, value);
    fetch(composer.action, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body,
      credentials: 'same-origin',
    })
      .then(async (response) => {
        // 409: refused for the conversation's state (outside the 24-hour window, opted out) or because this key
        // already sent another text (an earlier try went out after all): the server says why; a new key for the
        // text now in the box.
        if (response.status === 409) {
          if (key instanceof HTMLInputElement) key.value = crypto.randomUUID();
          const answer = await response.json().catch(() => null);
          throw new Refused(
            answer?.error?.code === 'idempotency_key_reused'
              ? 'An earlier try of your message went out after all (see the thread). Press send again to send this text as a new message.'
              : (answer?.error?.message ?? 'Not sent: refused.'),
          );
        }
        if (!response.ok) throw new Error(`status ${response.status}`);
        const sent = await response.json().catch(() => null);
        text.value = '';
        // A new message gets a new key; a retry of this one (same key) would have sent nothing twice.
        if (key instanceof HTMLInputElement) key.value = crypto.randomUUID();
        if (status)
          status.textContent = sent?.sentAsTemplate
            ? 'Outside the 24-hour window: sent as the window template instead.'
            : 'Sent.';
      })
      .catch((error) => {
        if (status)
          status.textContent =
            error instanceof Refused
              ? error.message
              : 'Not sent: check the connection and try again (it will not be sent twice).';
      })
      .finally(() => {
        sending = false;
        if (button instanceof HTMLButtonElement) button.disabled = false;
        text.focus();
      });
  });
}
