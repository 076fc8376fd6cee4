/**
 * What a model that cannot see images gets instead of them (issue #15). The media stage attaches images only for
 * a choice with vision, but the fallback model may lack it: its request carries no image part, and each turn
 * that had images says so in words, so the model can tell the user rather than pretend it saw them.
 */
import { storedContent } from './content-payload.js';
import type { ChatMessage } from './types.js';

/** The note added to a turn whose images were taken out. */
export function unseenImagesNote(count: number): string {
  const what = count === 1 ? 'an image' : `${count} images`;
  return `[The user sent ${what} here, but you cannot see images. If it matters, tell them you cannot look at photos.]`;
}

/** The messages as a model without vision may receive them: no image parts, a note where there were some. */
export function withoutImages(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.map((message) => {
    if (!message.images || message.images.length === 0) return message;
    const note = unseenImagesNote(message.images.length);
    return { role: message.role, content: message.content === '' ? note : `${message.content}\n${note}` };
  });
}

/**
 * A message that is only images, without a caption or any other text: to a model that cannot see them there is
 * nothing to answer. `payload` as stored (domain/content-payload.ts), `content` its text rendering.
 */
export function isImageWithoutText(message: { payload?: unknown; content: string }): boolean {
  const { content } = storedContent(message.payload ?? null, message.content);
  return (
    content.type === 'media' &&
    content.items.length > 0 &&
    content.items.every((item) => item.kind === 'image') &&
    (content.caption ?? '').trim() === ''
  );
}
