/**
 * The text of a document a user sent (PDF, plain text, CSV), bounded before it reaches a model: a 300-page PDF
 * must not become a prompt of a million tokens. PDFs are read with unpdf (PDF.js packaged for servers, pure
 * JavaScript), loaded only when a PDF arrives. Scanned PDFs have no text layer: they come back empty, and the
 * caller says so rather than pretending to have read them.
 */
export interface DocumentText {
  text: string;
  /** Pages read (PDF); 1 for a text file. */
  pagesRead: number;
  /** Pages in the document (PDF); 1 for a text file. */
  pageCount: number;
  /** Something was left out: pages past the limit, or characters past it. */
  truncated: boolean;
}

export interface DocumentLimits {
  maxPages: number;
  maxChars: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = { maxPages: 30, maxChars: 30_000 };

/** The document types whose text we read; others are acknowledged but not read. */
export function isReadableDocument(contentType: string): boolean {
  return contentType === 'application/pdf' || contentType === 'text/plain' || contentType === 'text/csv';
}

export async function documentText(
  bytes: Uint8Array,
  contentType: string,
  limits: DocumentLimits = DEFAULT_DOCUMENT_LIMITS,
): Promise<DocumentText> {
  if (contentType !== 'application/pdf') {
    const text = new TextDecoder('utf-8').decode(bytes);
    return bounded(text, 1, 1, false, limits);
  }
  const { getDocumentProxy } = await import('unpdf');
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  try {
    const pagesRead = Math.min(pdf.numPages, limits.maxPages);
    const pages: string[] = [];
    let length = 0;
    for (let number = 1; number <= pagesRead && length < limits.maxChars; number += 1) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      const text = content.items
        .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : ''))
        .join('')
        .trim();
      pages.push(text);
      length += text.length;
    }
    return bounded(pages.join('\n\n'), pages.length, pdf.numPages, pdf.numPages > pagesRead, limits);
  } finally {
    await pdf.destroy();
  }
}

function bounded(
  text: string,
  pagesRead: number,
  pageCount: number,
  pagesLeftOut: boolean,
  limits: DocumentLimits,
): DocumentText {
  // NUL cannot be stored in a PostgreSQL text column.
  const clean = text.replaceAll('\u0000', '').trim();
  const cut = clean.length > limits.maxChars;
  return {
    text: cut ? clean.slice(0, limits.maxChars) : clean,
    pagesRead,
    pageCount,
    truncated: cut || pagesLeftOut || pagesRead < pageCount,
  };
}
