/** Documents' text, bounded by pages and characters: real PDFs (written by test/helpers/pdf.ts) through unpdf. */
import { describe, expect, it } from 'vitest';
import { documentText, isReadableDocument } from '../../src/media/document-text.js';
import { pdfWithPages } from '../helpers/pdf.js';

describe('documentText', () => {
  it("reads a PDF's pages in order", async () => {
    const pdf = pdfWithPages(['Opening hours: 9 to 17 (Mon-Fri)', 'Prices: haircut 25 EUR']);
    const read = await documentText(pdf, 'application/pdf');
    expect(read).toMatchObject({ pagesRead: 2, pageCount: 2, truncated: false });
    expect(read.text).toContain('Opening hours: 9 to 17 (Mon-Fri)');
    expect(read.text.indexOf('Opening')).toBeLessThan(read.text.indexOf('Prices: haircut 25 EUR'));
  });

  it('stops at the page limit and at the character limit, and says so', async () => {
    const pdf = pdfWithPages(Array.from({ length: 8 }, (_, index) => `Page ${index + 1} text`));
    const byPages = await documentText(pdf, 'application/pdf', { maxPages: 3, maxChars: 10_000 });
    expect(byPages).toMatchObject({ pagesRead: 3, pageCount: 8, truncated: true });
    expect(byPages.text).toContain('Page 3 text');
    expect(byPages.text).not.toContain('Page 4 text');
    const byChars = await documentText(pdf, 'application/pdf', { maxPages: 30, maxChars: 12 });
    expect(byChars.text).toHaveLength(12);
    expect(byChars.truncated).toBe(true);
  });

  it('reads text files as UTF-8 and drops NUL characters (PostgreSQL cannot store them)', async () => {
    const read = await documentText(Buffer.from('Größe;Preis\nM;20 €\u0000', 'utf8'), 'text/csv');
    expect(read).toEqual({ text: 'Größe;Preis\nM;20 €', pagesRead: 1, pageCount: 1, truncated: false });
  });

  it('fails on a file that claims to be a PDF and is not', async () => {
    await expect(documentText(Buffer.from('not a pdf at all'), 'application/pdf')).rejects.toThrow();
  });

  it('knows which document types it reads', () => {
    expect(['application/pdf', 'text/plain', 'text/csv'].every(isReadableDocument)).toBe(true);
    expect(isReadableDocument('application/msword')).toBe(false);
  });
});
