/**
 * HTML that is safe by construction: the `html` tagged template escapes every interpolated value, so operator
 * pages can show message bodies, profile names and webhook payloads written by strangers. Only values wrapped
 * by `raw()` (our own markup, never input) or produced by another `html` template pass through unchanged.
 */

/** Markup that may be inserted as it is. Build it with `html` or, for trusted constants only, `raw`. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** What a template accepts: escaped text, numbers, safe markup, lists of those; null/undefined/false render nothing. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text as it may appear in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

/** Trusted markup, inserted unescaped. Never pass anything that came from a request or the database. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  // Strings, and anything a cast smuggled past the type (it is text, never markup).
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
