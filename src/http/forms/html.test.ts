// Hosted pages show texts that operators and form submitters wrote: every interpolated value
// is escaped unless it is explicitly markup, so a form text can never inject a script.
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../domain/escape-html.js';
import { html } from './html.js';

describe('html escaping', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('the html template escapes every interpolated value by default, nested html stays as is', () => {
    const name = '<script>alert("x")</script>';
    const inner = html`<b>${name}</b>`;
    expect(html`<p title="${name}">${inner}${[name, null, false, undefined, 3]}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;3</p>',
    );
  });

  it('a plain object with a value property is text, not markup', () => {
    const forged = { value: '<i>' } as unknown as string;
    expect(html`${forged}`.value).toBe('[object Object]');
  });
});
