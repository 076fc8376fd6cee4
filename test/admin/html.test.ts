import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, SafeHtml } from '../../src/admin/html.js';

describe('html template', () => {
  it('escapes every interpolated string, in content and in attributes', () => {
    const hostile = `<script>alert("x")</script><img src=x onerror='y'>\`&`;
    const out = html`<p title="${hostile}">${hostile}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<img');
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&#96;&amp;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&#96;&amp;</p>',
    );
  });

  it('inserts nested templates and raw() markup unescaped, and escapes strings inside lists', () => {
    // Inline elements only: Prettier reflows block markup inside html`` templates.
    const items = ['<b>', 'ok'].map((text) => html`<i>${text}</i>`);
    const line = html`<p>${items}</p>`;
    expect(html`${line}${raw('<hr>')}`.value).toBe('<p><i>&lt;b&gt;</i><i>ok</i></p><hr>');
    expect(html`${['<i>', 3]}`.value).toBe('&lt;i&gt;3');
  });

  it('renders null, undefined and false as nothing and numbers as text', () => {
    expect(html`a${null}b${undefined}c${false}d${0}e${1.5}`.value).toBe('abcd0e1.5');
  });

  it('does not treat an object that merely looks like safe markup as safe', () => {
    const forged = { value: '<script>', toString: () => '<script>' } as unknown as SafeHtml;
    expect(html`${forged}`.value).toBe('&lt;script&gt;');
    expect(html`${new SafeHtml('<em>')}`.value).toBe('<em>');
  });

  it('escapeHtml leaves ordinary text alone', () => {
    expect(escapeHtml('Olá, 123 — ok')).toBe('Olá, 123 — ok');
  });
});
