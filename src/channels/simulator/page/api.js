/* global fetch, EventSource */
/** The simulator's HTTP API, as the page uses it. */
const BASE = '/simulator/api';

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `the server answered ${response.status}`);
  return body;
}

function post(path, payload) {
  return fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  }).then(answer);
}

export function sendMessage(from, profileName, body) {
  return post('/messages', { from, profileName, body });
}

export function markRead(providerMessageId) {
  return post('/read', { providerMessageId });
}

export function loadConversations() {
  return fetch(`${BASE}/conversations`).then(answer);
}

export function loadThread(address) {
  return fetch(`${BASE}/conversations?address=${encodeURIComponent(address)}`).then(answer);
}

/** One stream for every conversation (a browser allows few open connections per server). */
export function openEvents(handlers) {
  const source = new EventSource(`${BASE}/events`);
  source.addEventListener('open', handlers.open);
  source.addEventListener('error', handlers.error);
  source.addEventListener('message', (event) => handlers.message(JSON.parse(event.data)));
  source.addEventListener('status', (event) => handlers.status(JSON.parse(event.data)));
  return source;
}
