/* global fetch, EventSource, URLSearchParams */
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

/** A file as the body, with its own type; `voice`: recorded here, a voice note. */
export function sendFile(from, profileName, file, { voice = false, caption = '' } = {}) {
  const query = new URLSearchParams({ from });
  if (profileName) query.set('profileName', profileName);
  if (caption.trim()) query.set('caption', caption);
  if (file.name && !voice) query.set('filename', file.name);
  if (voice) query.set('voice', '1');
  return fetch(`${BASE}/media?${query}`, {
    method: 'POST',
    headers: { 'content-type': file.type || 'application/octet-stream' },
    body: file,
  }).then(answer);
}

/** Where the page reads a stored file (the key is `<message id>/<index>`). */
export function mediaUrl(key) {
  return `${BASE}/media/${key}`;
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
