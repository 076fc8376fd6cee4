/* global document, window, location, history, navigator, MediaRecorder, Blob */
/**
 * The simulator page: a sidebar of conversations (one per simulated phone number) and the open chat. Replies
 * arrive over one Server-Sent Events stream; a shown reply is reported `read`, as a handset would.
 */
import { loadConversations, loadThread, markRead, openEvents, sendFile, sendMessage } from './api.js';
import { normalizePhone } from './phone.js';
import { bubble, conversationEntry, isForward, showStatus } from './view.js';

const byId = (id) => document.getElementById(id);
const ui = {
  app: document.querySelector('.app'),
  newChat: byId('new-chat'),
  phone: byId('phone'),
  profile: byId('profile'),
  phoneError: byId('phone-error'),
  list: byId('conversation-list'),
  emptyList: byId('empty-list'),
  status: byId('chat-status'),
  as: byId('chat-as'),
  placeholder: byId('placeholder'),
  messages: byId('messages'),
  composer: byId('composer'),
  input: byId('message'),
  composerError: byId('composer-error'),
  attachment: byId('attachment'),
  record: byId('record'),
  back: byId('back'),
};

/** address → { address, profileName, lastMessage, lastActivityAt, unread } */
const conversations = new Map();
/** The open conversation's bubbles, in order, and their nodes by key. */
let active = null;
let items = [];
const nodes = new Map();
const readRequested = new Set();
const waitingForReply = new Set();
/** Replies received per address, so a send can tell whether its answer came before its own POST returned. */
const repliesSeen = new Map();
let connected = false;
let localCount = 0;

// ── conversations ─────────────────────────────────────────────────────────────────────────────────────────

function upsert(address, patch) {
  const current = conversations.get(address) ?? { address, profileName: null, lastMessage: null, unread: 0 };
  const next = { ...current, ...patch };
  if (!patch.profileName) next.profileName = current.profileName ?? patch.profileName ?? null;
  conversations.set(address, next);
  renderList();
  return next;
}

function renderList() {
  const sorted = [...conversations.values()].sort((a, b) =>
    String(b.lastActivityAt ?? '').localeCompare(String(a.lastActivityAt ?? '')),
  );
  ui.list.replaceChildren(...sorted.map((c) => conversationEntry(c, c.address === active, openConversation)));
  ui.emptyList.hidden = sorted.length > 0;
}

async function refreshList() {
  const { conversations: stored } = await loadConversations();
  for (const c of stored) {
    const known = conversations.get(c.address);
    conversations.set(c.address, {
      ...c,
      unread: known?.unread ?? 0,
      profileName: c.profileName ?? known?.profileName,
    });
  }
  renderList();
}

function openConversation(address) {
  active = address;
  if (location.hash !== `#${address}`) history.replaceState(null, '', `#${address}`);
  upsert(address, { unread: 0 });
  items = [];
  nodes.clear();
  ui.messages.replaceChildren();
  ui.placeholder.hidden = true;
  ui.messages.hidden = false;
  ui.composer.hidden = false;
  ui.composerError.hidden = true;
  ui.app.dataset.view = 'chat';
  showHeader();
  ui.input.focus();
  refreshThread().catch(showError);
}

function showError(error) {
  ui.composerError.textContent = `Could not load the conversation: ${error.message}`;
  ui.composerError.hidden = false;
}

// ── the open chat ─────────────────────────────────────────────────────────────────────────────────────────

function showHeader() {
  const conversation = active && conversations.get(active);
  ui.as.textContent = conversation
    ? `You: ${conversation.profileName ? `${conversation.profileName} · ` : ''}${conversation.address}`
    : '';
  ui.status.textContent = !connected
    ? 'connecting…'
    : active && waitingForReply.has(active)
      ? 'typing…'
      : 'online';
}

function threadItems(messages) {
  const result = [];
  for (const message of messages) {
    if (message.role === 'user') {
      result.push({
        key: `m:${message.id}`,
        messageId: message.id,
        kind: 'out',
        text: message.content,
        display: message.display,
        hasMedia: message.display?.body?.kind === 'attachments',
        time: message.createdAt,
        status: message.processingStatus ?? 'pending',
      });
    } else if (message.role === 'assistant') {
      for (const part of message.parts ?? []) {
        result.push({
          key: `p:${part.providerMessageId}`,
          providerMessageId: part.providerMessageId,
          kind: 'in',
          text: part.body,
          display: part.display,
          time: message.createdAt,
          status: part.status,
        });
      }
    }
  }
  return result;
}

/** Show the thread as stored, keeping what arrived or was typed here and is not stored (or sent) yet. */
async function refreshThread() {
  const address = active;
  const thread = await loadThread(address);
  if (active !== address) return;
  if (thread.conversation) upsert(address, { profileName: thread.conversation.profileName });
  const stored = threadItems(thread.messages);
  const keys = new Set(stored.map((item) => item.key));
  const storedIds = new Set(stored.map((item) => item.messageId).filter(Boolean));
  const unstored = items.filter((item) =>
    item.local ? !storedIds.has(item.messageId) : !keys.has(item.key),
  );
  items = [...stored, ...unstored];
  const last = thread.messages.at(-1);
  if (last?.role === 'user' && last.processingStatus === 'pending') waitingForReply.add(address);
  else waitingForReply.delete(address);
  nodes.clear();
  ui.messages.replaceChildren(...items.map(createNode));
  scrollDown();
  showHeader();
  reportRead();
}

function createNode(item) {
  const node = bubble(item);
  nodes.set(item.key, node);
  return node;
}

function append(item) {
  items.push(item);
  ui.messages.append(createNode(item));
  scrollDown();
}

function setStatus(item, status, error) {
  item.status = status;
  item.error = error;
  const node = nodes.get(item.key);
  if (node) showStatus(node, item);
}

function scrollDown() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

/** Every bot bubble on screen that is not read yet is reported read, once. */
function reportRead() {
  if (document.visibilityState !== 'visible' || !active) return;
  for (const item of items) {
    if (item.kind !== 'in' || item.status === 'read' || readRequested.has(item.providerMessageId)) continue;
    readRequested.add(item.providerMessageId);
    markRead(item.providerMessageId).then(
      () => {
        if (isForward('read', item.status)) setStatus(item, 'read');
      },
      () => readRequested.delete(item.providerMessageId),
    );
  }
}

async function send(text) {
  const address = active;
  const conversation = conversations.get(address);
  localCount += 1;
  const item = {
    key: `local:${localCount}`,
    local: true,
    kind: 'out',
    text,
    time: new Date(),
    status: 'sending',
  };
  append(item);
  upsert(address, { lastMessage: text, lastActivityAt: new Date().toISOString() });
  const repliesBefore = repliesSeen.get(address) ?? 0;
  try {
    const accepted = await sendMessage(address, conversation?.profileName ?? null, text);
    item.messageId = accepted.messageId;
    // The pipeline can answer before this POST returns: then the reply's event has come already, and waiting
    // for another would leave "typing…" up for good.
    const answered = (repliesSeen.get(address) ?? 0) > repliesBefore;
    if (item.status === 'sending') setStatus(item, answered ? 'answered' : 'pending');
    if (!answered) waitingForReply.add(address);
    ui.composerError.hidden = true;
  } catch (error) {
    setStatus(item, 'error', error.message);
    ui.composerError.textContent = error.message;
    ui.composerError.hidden = false;
  }
  showHeader();
}

/** A file or a recording: shown as sending, then as the server stored it (the thread is read again). */
async function sendAttachment(file, options) {
  const address = active;
  const conversation = conversations.get(address);
  localCount += 1;
  const label = options.voice ? '🎤 Voice message' : `📎 ${file.name || 'Attachment'}`;
  const item = {
    key: `local:${localCount}`,
    local: true,
    kind: 'out',
    text: options.caption ? `${label}\n${options.caption}` : label,
    hasMedia: true,
    time: new Date(),
    status: 'sending',
  };
  append(item);
  upsert(address, { lastMessage: label, lastActivityAt: new Date().toISOString() });
  try {
    const accepted = await sendFile(address, conversation?.profileName ?? null, file, options);
    item.messageId = accepted.messageId;
    if (item.status === 'sending') setStatus(item, 'pending');
    waitingForReply.add(address);
    ui.composerError.hidden = true;
  } catch (error) {
    setStatus(item, 'error', error.message);
    ui.composerError.textContent = error.message;
    ui.composerError.hidden = false;
  }
  showHeader();
}

let recorder = null;

async function toggleRecording() {
  if (recorder) {
    recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    ui.composerError.textContent = `Cannot record: ${error.message}`;
    ui.composerError.hidden = false;
    return;
  }
  // WhatsApp's own format where the browser can record it (Firefox), else WebM/Opus (Chrome).
  const type = ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus'].find((t) =>
    MediaRecorder.isTypeSupported(t),
  );
  const chunks = [];
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
  recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
  recorder.addEventListener('stop', () => {
    for (const track of stream.getTracks()) track.stop();
    const mimeType = (recorder.mimeType || type || 'audio/webm').split(';')[0];
    recorder = null;
    ui.record.setAttribute('aria-pressed', 'false');
    const blob = new Blob(chunks, { type: mimeType });
    if (blob.size > 0 && active) void sendAttachment(blob, { voice: true });
  });
  recorder.start();
  ui.record.setAttribute('aria-pressed', 'true');
}

// ── live events ───────────────────────────────────────────────────────────────────────────────────────────

function onMessage(event) {
  const isOpen = event.address === active;
  const current = conversations.get(event.address);
  upsert(event.address, {
    lastMessage: event.body,
    lastActivityAt: event.sentAt,
    unread: isOpen && document.visibilityState === 'visible' ? 0 : (current?.unread ?? 0) + 1,
  });
  repliesSeen.set(event.address, (repliesSeen.get(event.address) ?? 0) + 1);
  waitingForReply.delete(event.address);
  if (isOpen && !nodes.has(`p:${event.providerMessageId}`)) {
    for (const item of items)
      if (item.kind === 'out' && item.status === 'pending') setStatus(item, 'answered');
    append({
      key: `p:${event.providerMessageId}`,
      providerMessageId: event.providerMessageId,
      kind: 'in',
      text: event.body,
      display: event.display,
      time: event.sentAt,
      status: event.status,
    });
    reportRead();
    // The worker has stored the files it answered (a photo, a voice note's transcript): show them as stored.
    if (items.some((item) => item.kind === 'out' && item.hasMedia))
      void refreshThread().catch(() => undefined);
  }
  showHeader();
}

function onStatus(event) {
  const item = items.find((candidate) => candidate.providerMessageId === event.providerMessageId);
  if (item && isForward(event.status, item.status)) setStatus(item, event.status);
}

// ── wiring ────────────────────────────────────────────────────────────────────────────────────────────────

ui.newChat.addEventListener('submit', (event) => {
  event.preventDefault();
  const phone = normalizePhone(ui.phone.value);
  ui.phone.setAttribute('aria-invalid', String(phone === null));
  ui.phoneError.hidden = phone !== null;
  if (phone === null) {
    ui.phoneError.textContent =
      'Enter the number in international format: + then country code and number, e.g. +14155550100.';
    ui.phone.focus();
    return;
  }
  const profileName = ui.profile.value.replace(/\s+/g, ' ').trim() || null;
  upsert(phone, {
    profileName,
    lastActivityAt: conversations.get(phone)?.lastActivityAt ?? new Date().toISOString(),
  });
  ui.newChat.reset();
  openConversation(phone);
});

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.input.value;
  if (!active || text.trim() === '') return;
  ui.input.value = '';
  fitInput();
  void send(text);
});

// Enter sends, Shift+Enter starts a new line (and Enter while an input method is composing is left alone).
ui.input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

function fitInput() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, 160)}px`;
}
ui.input.addEventListener('input', fitInput);

ui.attachment.addEventListener('change', () => {
  const file = ui.attachment.files?.[0];
  if (!file || !active) return;
  const caption = ui.input.value;
  ui.input.value = '';
  ui.attachment.value = '';
  fitInput();
  void sendAttachment(file, { voice: false, caption });
});

ui.record.addEventListener('click', () => {
  if (active) void toggleRecording();
});

ui.back.addEventListener('click', () => {
  ui.app.dataset.view = 'list';
});

document.addEventListener('visibilitychange', reportRead);

window.addEventListener('hashchange', () => {
  const address = normalizePhone(decodeURIComponent(location.hash.slice(1)));
  if (address && address !== active) openConversation(address);
});

openEvents({
  open: () => {
    connected = true;
    showHeader();
    // Catch up on anything sent while the stream was down.
    void refreshList().catch(() => undefined);
    if (active) void refreshThread().catch(() => undefined);
  },
  error: () => {
    connected = false;
    showHeader();
  },
  message: onMessage,
  status: onStatus,
});

await refreshList().catch(() => undefined);
const fromHash = normalizePhone(decodeURIComponent(location.hash.slice(1)));
if (fromHash) openConversation(fromHash);
