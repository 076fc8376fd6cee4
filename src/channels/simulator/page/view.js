/* global document, URL */
import { mediaUrl } from './api.js';
/**
 * DOM building for the chat. Text from people and from the bot only ever goes through textContent, so whatever
 * they wrote is shown as text, never interpreted as markup.
 */

/** Delivery states in rank order, as the server ranks them (src/domain/delivery.ts): states only move forward. */
const RANK = {
  pending: 0,
  sending: 1,
  queued: 2,
  accepted: 2,
  scheduled: 2,
  sent: 3,
  failed: 4,
  undelivered: 4,
  canceled: 4,
  unknown: 4,
  delivered: 5,
  read: 6,
};

export function isForward(next, current) {
  return (RANK[next] ?? -1) > (RANK[current] ?? -1);
}

/** What the small mark under a bubble shows, per kind of bubble and state. */
const BOT_MARKS = {
  sent: ['✓', 'sent'],
  delivered: ['✓✓', 'delivered'],
  read: ['✓✓', 'read'],
  failed: ['!', 'failed'],
  undelivered: ['!', 'undelivered'],
};
const USER_MARKS = {
  sending: ['🕓', 'sending'],
  pending: ['✓', 'received by the server'],
  answered: ['✓✓', 'answered'],
  skipped: ['✓✓', 'left for a human'],
  failed: ['!', 'could not be answered'],
  error: ['!', 'not sent'],
};

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clock(time) {
  const date = new Date(time);
  return Number.isNaN(date.getTime())
    ? ''
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Only links the server built to a map are followed; anything else stays text. */
function safeLink(url) {
  try {
    return new URL(url).protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

const RASTER_IMAGE = /^image\/(jpeg|png|webp|gif)$/;

/** The file itself once the server stored it: a picture, a player, or a download link; then its transcript. */
function attachmentNodes(item) {
  const nodes = [
    element(
      'p',
      'message__attachment',
      `📎 ${item.label}${item.filename ? ` “${item.filename}”` : ''} · ${item.contentType}`,
    ),
  ];
  if (item.mediaKey) {
    const url = mediaUrl(item.mediaKey);
    const type = String(item.contentType).split(';')[0].trim().toLowerCase();
    if ((item.kind === 'image' || item.kind === 'sticker') && RASTER_IMAGE.test(type)) {
      const image = element('img', 'message__image');
      image.src = url;
      image.alt = item.filename || item.label;
      nodes.push(image);
    } else if (item.kind === 'voice' || item.kind === 'audio' || type.startsWith('audio/')) {
      const audio = element('audio', 'message__audio');
      audio.controls = true;
      audio.preload = 'none';
      audio.src = url;
      nodes.push(audio);
    } else {
      const link = element('a', 'message__detail', `Download ${item.filename || item.label}`);
      link.href = url;
      link.download = item.filename || '';
      nodes.push(link);
    }
  }
  if (item.transcript) nodes.push(element('p', 'message__transcript', `“${item.transcript}”`));
  if (item.refused) nodes.push(element('p', 'message__detail message__muted', item.refused));
  return nodes;
}

function displayBody(body) {
  switch (body.kind) {
    case 'attachments': {
      const nodes = body.items.flatMap(attachmentNodes);
      if (nodes.length === 0) nodes.push(element('p', 'message__attachment', '📎 Attachment'));
      if (body.caption) nodes.push(element('p', 'message__text', body.caption));
      return nodes;
    }
    case 'location': {
      const href = safeLink(body.mapUrl);
      const link = element(href ? 'a' : 'span', 'message__location', `📍 ${body.title}`);
      if (href) {
        link.href = href;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
      }
      const nodes = [link];
      if (body.address) nodes.push(element('p', 'message__detail', body.address));
      nodes.push(element('p', 'message__detail', body.coordinates));
      return nodes;
    }
    case 'contacts': {
      const nodes = body.cards.map((card) => {
        const node = element('div', 'message__contact');
        node.append(element('strong', '', `👤 ${card.name}`));
        for (const detail of card.details) node.append(element('p', 'message__detail', detail));
        return node;
      });
      if (body.note) nodes.push(element('p', 'message__contact', `👤 ${body.note}`));
      return nodes;
    }
    case 'reply': {
      const line = element('p', 'message__text');
      line.append(element('span', 'message__badge', body.badge), ` ${body.title}`);
      const nodes = [line];
      if (body.payload) nodes.push(element('p', 'message__detail', `payload: ${body.payload}`));
      return nodes;
    }
    case 'reaction':
      return [element('p', 'message__reaction', `${body.emoji ?? ''} ${body.text}`.trim())];
    case 'muted':
      return [element('p', 'message__text message__muted', body.text)];
    default:
      return [element('p', 'message__text', body.text ?? '')];
  }
}

/** The content of a bubble: notes, the quoted block, then the body by kind (`display`, see display-content.ts). */
function contentNodes(item) {
  const display = item.display;
  if (!display || !display.body) return [element('p', 'message__text', item.text)];
  const nodes = (display.notes ?? []).map((note) => element('p', 'message__note', note));
  if (display.quote) {
    nodes.push(element('blockquote', 'message__quote', display.quote.text ?? 'an earlier message'));
  }
  return [...nodes, ...displayBody(display.body)];
}

/**
 * One bubble. `item`: { key, kind: 'in' (the bot) | 'out' (the person), text, display?, time, status, error? }.
 */
export function bubble(item) {
  const node = element('li', `message message--${item.kind}`);
  node.dataset.key = item.key;
  const time = element('time', 'message__time', clock(item.time));
  time.dateTime = new Date(item.time).toISOString();
  const meta = element('span', 'message__meta');
  meta.append(time, element('span', 'message__state'));
  node.append(...contentNodes(item), meta);
  showStatus(node, item);
  return node;
}

/** Put the item's current state on its bubble. */
export function showStatus(node, item) {
  const marks = item.kind === 'in' ? BOT_MARKS : USER_MARKS;
  const [mark, label] = marks[item.status] ?? ['', item.status];
  const state = node.querySelector('.message__state');
  state.textContent = mark;
  state.dataset.status = item.status;
  state.title = label;
  state.setAttribute('aria-label', label);
  node.classList.toggle('message--error', item.status === 'error');
  let error = node.querySelector('.message__error');
  if (item.error && !error) {
    error = element('p', 'message__error');
    node.append(error);
  }
  if (error) error.textContent = item.error ? `Not sent: ${item.error}` : '';
}

function initials(conversation) {
  const words = (conversation.profileName ?? '').split(/\s+/).filter(Boolean);
  if (words.length === 0) return conversation.address.slice(-2);
  return words
    .slice(0, 2)
    .map((word) => Array.from(word)[0].toUpperCase())
    .join('');
}

/** The sidebar entry of a conversation; `onOpen` is called when it is chosen. */
export function conversationEntry(conversation, isActive, onOpen) {
  const button = element('button', 'conversation');
  button.type = 'button';
  button.dataset.address = conversation.address;
  if (isActive) button.setAttribute('aria-current', 'true');
  button.addEventListener('click', () => onOpen(conversation.address));
  const text = element('span', 'conversation__text');
  const top = element('span', 'conversation__top');
  top.append(element('span', 'conversation__name', conversation.profileName || conversation.address));
  if (conversation.lastActivityAt) {
    top.append(element('span', 'conversation__time', clock(conversation.lastActivityAt)));
  }
  const bottom = element('span', 'conversation__bottom');
  const preview =
    conversation.lastMessage ?? (conversation.profileName ? conversation.address : 'New conversation');
  bottom.append(element('span', 'conversation__preview', preview));
  if (conversation.unread > 0) {
    const badge = element('span', 'conversation__unread', String(conversation.unread));
    badge.setAttribute('aria-label', `${conversation.unread} unread`);
    bottom.append(badge);
  }
  text.append(top, bottom);
  button.append(element('span', 'avatar', initials(conversation)), text);
  const entry = element('li');
  entry.append(button);
  return entry;
}
