// Rendering decides which links become tracking links and what personal data lands in a message:
// a missed link loses a click, a rewritten unsubscribe link or an unescaped value breaks the mail.
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { statusOf } from '../http/problem.js';
import { type MessageContent, type RenderContext, prepareMessage, renderMessage } from './render.js';

function ctx(over: Partial<RenderContext> = {}): RenderContext {
  return {
    contact: { id: 42, email: 'ann@example.com', phone: '+33600000000', externalId: 'ext-1', fields: { firstName: 'Ann', city: 'Lyon' } },
    message: { id: 3, name: 'Spring news' },
    sending: { id: 7 },
    urls: { unsubscribeUrl: 'https://t.io/f/unsubscribe/U', trackingOptOutUrl: 'https://t.io/f/tracking-optout/O', profileUrl: 'https://t.io/f/profile/P' },
    clickUrl: (idx) => `https://t.io/t/c/L${idx}`,
    openUrl: 'https://t.io/t/o/OPEN',
    ...over,
  };
}

const render = (content: MessageContent, over: Partial<RenderContext> = {}) => renderMessage(prepareMessage(content), ctx(over));

function templateError(content: MessageContent): AppError {
  try {
    prepareMessage(content);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe('merge tags', () => {
  it('fills contact, message, sending and URL tags', () => {
    const out = render({
      channel: 'sms',
      text: '{{contact.firstName}} {{contact.fields.city}} {{contact.email}} {{contact.id}} {{message.name}} {{sending.id}} {{unsubscribeUrl}} {{trackingOptOutUrl}} {{profileUrl}}',
    });
    expect(out.text).toBe('Ann Lyon ann@example.com 42 Spring news 7 https://t.io/f/unsubscribe/U https://t.io/f/tracking-optout/O https://t.io/f/profile/P');
  });

  it('uses the default when the value is missing or empty, and nothing when there is no default', () => {
    const content: MessageContent = { channel: 'sms', text: 'Hi {{ contact.lastName | "there" }}, {{contact.fields.nick}}!' };
    expect(render(content).text).toBe('Hi there, !');
    expect(render(content, { contact: { ...ctx().contact, fields: { lastName: '' } } }).text).toBe('Hi there, !');
    expect(render(content, { contact: { ...ctx().contact, fields: { lastName: 'Lee', nick: 7 } } }).text).toBe('Hi Lee, 7!');
  });

  it('HTML-escapes values in email HTML and leaves them raw in text and subject', () => {
    const contact = { ...ctx().contact, fields: { firstName: `<b>"Tom" & 'Jerry'</b>` } };
    const out = render({ channel: 'email', subject: 'For {{contact.firstName}}', html: '<p>{{contact.firstName}}</p>', text: '{{contact.firstName}}' }, { contact, openUrl: null });
    expect(out.html).toBe('<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>');
    expect(out.text).toBe(`<b>"Tom" & 'Jerry'</b>`);
    expect(out.subject).toBe(`For <b>"Tom" & 'Jerry'</b>`);
  });

  it('keeps a subject on one line whatever a field value holds', () => {
    const contact = { ...ctx().contact, fields: { firstName: 'Ann\r\nBcc: all@example.com' } };
    expect(render({ channel: 'email', subject: 'Hi {{contact.firstName}}', text: '{{contact.firstName}}' }, { contact }).subject).toBe('Hi Ann Bcc: all@example.com');
  });
});

describe('template errors', () => {
  it('reports an unknown tag with its field and line', () => {
    const error = templateError({ channel: 'email', subject: 'ok', html: '<p>\nhello\n{{contact.foo bar}}</p>' });
    expect(error.code).toBe('TemplateError');
    expect(statusOf(error.code)).toBe(400);
    expect(error.errors).toEqual([{ field: 'html', reason: expect.stringMatching(/^line 3: unknown tag \{\{contact\.foo bar\}\} \(/) }]);
  });

  it('lists the valid tags in an unknown tag error and points to the guide', () => {
    const reason = templateError({ channel: 'sms', text: '{{shop.discount}}' }).errors[0]!.reason;
    for (const tag of ['contact.email', 'contact.<field>', 'unsubscribeUrl', 'trackingOptOutUrl', 'profileUrl', 'message.name', 'sending.id']) expect(reason).toContain(tag);
    expect(reason).toMatch(/docs\/merge-tags\.md/);
  });

  it('reports an unclosed tag and an unknown namespace, across fields', () => {
    const error = templateError({ channel: 'email', subject: 'Hi {{contact.firstName', html: '<p>x</p>', text: 'a\n{{shop.discount}}' });
    expect(error.errors).toEqual([
      { field: 'subject', reason: 'line 1: unclosed {{' },
      { field: 'text', reason: expect.stringMatching(/^line 2: unknown tag \{\{shop\.discount\}\} \(use /) },
    ]);
  });

  it('rejects unknown message and sending properties and a bare namespace', () => {
    for (const tag of ['{{message.subject}}', '{{sending.name}}', '{{contact}}', '{{contact.fields.}}', '{{}}', '{{ | "x" }}']) {
      expect(templateError({ channel: 'sms', text: tag }).errors[0]!.reason).toContain('unknown tag');
    }
  });

  it('reports a tag opened inside another as unclosed', () => {
    expect(templateError({ channel: 'sms', text: '{{contact.id {{contact.email}}' }).errors).toEqual([{ field: 'text', reason: 'line 1: unclosed {{' }]);
  });
});

describe('link rewriting', () => {
  const html = `<html><body>
<a href="https://shop.example.com/a?x=1&amp;y=2#top">A</a>
<a class="btn" href='http://shop.example.com/b'>B</a>
<AREA shape="rect" HREF=https://shop.example.com/c>
<a href="https://shop.example.com/a?x=1&amp;y=2#top">A again</a>
<a href="mailto:help@example.com">mail</a> <a href="tel:+331">call</a> <a href="#section">anchor</a>
<a href="https://shop.example.com/p?cid={{contact.id}}">personal</a>
<a href="{{unsubscribeUrl}}">unsubscribe</a> <a href="{{trackingOptOutUrl}}">opt out</a>
</body></html>`;

  it('rewrites http(s) hrefs of <a> and <area>, dedupes destinations, keeps query and fragment', () => {
    const prepared = prepareMessage({ channel: 'email', subject: 's', html });
    expect(prepared.links).toEqual(['https://shop.example.com/a?x=1&y=2#top', 'http://shop.example.com/b', 'https://shop.example.com/c']);
    const out = renderMessage(prepared, ctx({ openUrl: null }));
    expect(out.html).toContain('<a href="https://t.io/t/c/L1">A</a>');
    expect(out.html).toContain(`<a class="btn" href='https://t.io/t/c/L2'>B</a>`);
    expect(out.html).toContain('HREF=https://t.io/t/c/L3>');
    expect(out.html).toContain('<a href="https://t.io/t/c/L1">A again</a>');
  });

  it('leaves mailto:, tel:, anchors, personal links and unsubscribe/opt-out links alone', () => {
    const out = render({ channel: 'email', subject: 's', html }, { openUrl: null });
    expect(out.html).toContain('href="mailto:help@example.com"');
    expect(out.html).toContain('href="tel:+331"');
    expect(out.html).toContain('href="#section"');
    expect(out.html).toContain('href="https://shop.example.com/p?cid=42"');
    expect(out.html).toContain('href="https://t.io/f/unsubscribe/U"');
    expect(out.html).toContain('href="https://t.io/f/tracking-optout/O"');
  });

  it('calls clickUrl once per distinct destination', () => {
    const calls: number[] = [];
    render({ channel: 'email', subject: 's', html, text: 'https://shop.example.com/c and http://shop.example.com/b' }, {
      clickUrl: (i) => {
        calls.push(i);
        return `https://t.io/t/c/L${i}`;
      },
    });
    expect(calls.sort()).toEqual([1, 2, 3]);
  });

  it('rewrites URLs in email text and shares indexes with the HTML part', () => {
    const prepared = prepareMessage({
      channel: 'email',
      subject: 'Visit https://not-rewritten.example.com',
      html: '<a href="https://x.example.com/a">a</a>',
      text: 'See https://y.example.com/b.\nOr (https://x.example.com/a), or <https://z.example.com/w_(x)>.\nUnsubscribe: {{unsubscribeUrl}}',
    });
    expect(prepared.links).toEqual(['https://x.example.com/a', 'https://y.example.com/b', 'https://z.example.com/w_(x)']);
    const out = renderMessage(prepared, ctx({ openUrl: null }));
    expect(out.text).toBe('See https://t.io/t/c/L2.\nOr (https://t.io/t/c/L1), or <https://t.io/t/c/L3>.\nUnsubscribe: https://t.io/f/unsubscribe/U');
    expect(out.subject).toBe('Visit https://not-rewritten.example.com');
  });

  it('rewrites SMS links but not URLs carrying a merge tag', () => {
    const prepared = prepareMessage({ channel: 'sms', text: 'Sale! https://s.example.com/x?a=1#f Yours: https://s.example.com/u/{{contact.id}} Stop: {{unsubscribeUrl}}' });
    expect(prepared.links).toEqual(['https://s.example.com/x?a=1#f']);
    expect(renderMessage(prepared, ctx()).text).toBe('Sale! https://t.io/t/c/L1 Yours: https://s.example.com/u/42 Stop: https://t.io/f/unsubscribe/U');
  });

  it('rewrites the push URL but not the push body, and keeps app deep links', () => {
    const prepared = prepareMessage({ channel: 'push', pushTitle: 'Hi {{contact.firstName}}', text: 'Body https://b.example.com', pushUrl: 'https://p.example.com/deal?id=9' });
    expect(prepared.links).toEqual(['https://p.example.com/deal?id=9']);
    expect(renderMessage(prepared, ctx())).toEqual({ subject: null, html: null, text: 'Body https://b.example.com', pushTitle: 'Hi Ann', pushUrl: 'https://t.io/t/c/L1' });
    expect(prepareMessage({ channel: 'push', pushUrl: 'myapp://deal/9' }).links).toEqual([]);
  });
});

describe('pixel and footer', () => {
  it('puts the footer and then the pixel before </body>', () => {
    const out = render({ channel: 'email', subject: 's', html: '<html><BODY><p>x</p></BODY></html>', text: 'x' }, { footerHtml: '<p>footer</p>', footerText: 'Opt out: https://t.io/f/o' });
    expect(out.html).toBe('<html><BODY><p>x</p><p>footer</p><img src="https://t.io/t/o/OPEN" width="1" height="1" alt="" style="display:none"></BODY></html>');
    expect(out.text).toBe('x\n\nOpt out: https://t.io/f/o');
  });

  it('appends them at the end of a fragment without </body>, and adds no pixel without an open URL', () => {
    expect(render({ channel: 'email', html: '<p>x</p>' }).html).toBe('<p>x</p><img src="https://t.io/t/o/OPEN" width="1" height="1" alt="" style="display:none">');
    expect(render({ channel: 'email', html: '<p>x</p>' }, { openUrl: null }).html).toBe('<p>x</p>');
  });

  it('adds neither footer nor pixel to SMS', () => {
    expect(render({ channel: 'sms', text: 'x' }, { footerText: 'F', footerHtml: 'F' }).text).toBe('x');
  });
});
