/**
 * A message's content in the admin thread, drawn from its display description (domain/display-content.ts):
 * locations link to a map; media is a labelled attachment, shown, played or linked through the admin's media route
 * once the worker stored it, with a voice note's transcript or why a file was refused; a tapped button carries a
 * badge and its payload. Every value is escaped by the html template.
 */
import type { Content, MessageContext } from '../../domain/content.js';
import {
  displayOf,
  type DisplayAttachment,
  type DisplayBody,
  type MessageDisplay,
} from '../../domain/display-content.js';
import { html, type SafeHtml } from '../html.js';
import { badge } from './components.js';

/** Where a stored file is read from (the admin's media route); absent: files are described, not shown. */
export type MediaUrl = (key: string) => string;

const RASTER_IMAGE = /^image\/(jpeg|png|webp|gif)$/;

/** The file itself: a picture inline, a player for sound and video, a download link for the rest. */
function storedFile(item: DisplayAttachment, url: string): SafeHtml {
  const type = item.contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if ((item.kind === 'image' || item.kind === 'sticker') && RASTER_IMAGE.test(type))
    return html`<a class="attachment-media" href="${url}" target="_blank" rel="noopener"
      ><img class="attachment-image" src="${url}" alt="${item.filename ?? item.label}" loading="lazy"
    /></a>`;
  if (item.kind === 'audio' || item.kind === 'voice' || type.startsWith('audio/'))
    return html`<audio class="attachment-audio" controls preload="none" src="${url}"></audio>`;
  if (item.kind === 'video')
    return html`<video class="attachment-video" controls preload="none" src="${url}"></video>`;
  return html`<a class="attachment-download" href="${url}" download
    >Download ${item.filename ?? item.label}</a
  >`;
}

function attachment(item: DisplayAttachment, mediaUrl: MediaUrl | undefined): SafeHtml {
  return html`<li class="attachment">
    <span class="attachment-kind">${item.label}</span>
    ${item.filename ? html`<span class="attachment-name">${item.filename}</span>` : ''}
    <code>${item.contentType}</code>
    ${item.mediaKey && mediaUrl ? storedFile(item, mediaUrl(item.mediaKey)) : ''}
    ${item.transcript ? html`<blockquote class="transcript"><span class="muted">Transcript:</span> ${item.transcript}</blockquote>` : ''}
    ${item.refused ? html`<p class="attachment-refused muted">${item.refused}</p>` : ''}
  </li>`;
}

function body(display: DisplayBody, mediaUrl?: MediaUrl): SafeHtml {
  switch (display.kind) {
    case 'text':
      return html`<div class="bubble-body">${display.text}</div>`;
    case 'attachments':
      return html`<ul class="attachments">
          ${display.items.length === 0 ? html`<li class="attachment muted">Attachment that could not be read</li>` : ''}
          ${display.items.map((item) => attachment(item, mediaUrl))}
        </ul>
        ${display.caption ? html`<div class="bubble-body">${display.caption}</div>` : ''}`;
    case 'location':
      return html`<p class="location">
        📍
        <a href="${display.mapUrl}" target="_blank" rel="noopener noreferrer">${display.title}</a>
        ${display.address ? html`<span class="location-address">${display.address}</span>` : ''}
        <span class="muted">${display.coordinates}</span>
      </p>`;
    case 'contacts':
      return html`<ul class="contact-cards">
        ${display.note ? html`<li class="contact-card muted">👤 ${display.note}</li>` : ''}
        ${display.cards.map(
          (card) =>
            html`<li class="contact-card">
              <strong>👤 ${card.name}</strong>
              ${card.details.map((detail) => html`<span>${detail}</span>`)}
            </li>`,
        )}
      </ul>`;
    case 'reply':
      return html`<p class="interactive-reply">
        ${badge(display.badge, 'info')} <span>${display.title}</span>
        ${display.description ? html`<span class="muted">${display.description}</span>` : ''}
        ${display.payload !== '' ? html`<code title="payload">${display.payload}</code>` : ''}
      </p>`;
    case 'reaction':
      return html`<p class="reaction-line muted">
        <span class="reaction-emoji">${display.emoji ?? '∅'}</span> ${display.text} on message
        <code>${display.targetProviderMessageId}</code>
      </p>`;
    case 'muted':
      return html`<p class="muted">${display.text}</p>`;
  }
}

/** Notes (forwarded, from an ad), the quoted block and the body. */
export function displayHtml(display: MessageDisplay, mediaUrl?: MediaUrl): SafeHtml {
  return html`${display.notes.map((note) => html`<p class="content-note">${note}</p>`)}
  ${
    display.quote
      ? html`<blockquote class="content-quote">${display.quote.text ?? 'an earlier message'}</blockquote>`
      : ''
  }
  ${body(display.body, mediaUrl)}`;
}

/** The content of one message; `quotedText` is the quoted message's text when the thread holds it. */
export function messageContentHtml(
  content: Content,
  context: MessageContext,
  options: { quotedText?: string; mediaUrl?: MediaUrl } = {},
): SafeHtml {
  const { mediaUrl, ...display } = options;
  return displayHtml(displayOf(content, context, display), mediaUrl);
}
