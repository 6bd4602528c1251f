// A destination written in a message may hold CR/LF (`&#13;&#10;`), tabs, spaces or non-ASCII: put as is in a
// `Location` header it makes the redirect throw. Every destination is percent-encoded once, when it is read.

const URL_CHAR = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
/** A URL made only of allowed characters and valid escapes needs no work (the common case, on every click). */
const CLEAN_URL = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

/**
 * Percent-encodes what a URL may not carry (controls, space, non-ASCII, `"<>\^`{|}`, a `%` not starting an
 * escape); existing escapes are kept, so it is idempotent.
 *
 * @example normalizeLink('https://x.io/a b\r\n?q=é') // 'https://x.io/a%20b%0D%0A?q=%C3%A9'
 */
export function normalizeLink(url: string): string {
  if (CLEAN_URL.test(url)) return url;
  let out = '';
  for (let i = 0; i < url.length; i++) {
    const ch = url[i] as string;
    if (URL_CHAR.test(ch)) out += ch;
    else if (ch === '%') out += HEX2.test(url.slice(i + 1, i + 3)) ? '%' : '%25';
    else {
      const code = ch.charCodeAt(0);
      const next = url.charCodeAt(i + 1);
      if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(ch + url[i + 1]);
        i++;
      } else if (code >= 0xd800 && code <= 0xdfff) out += '%EF%BF%BD'; // a lone surrogate has no UTF-8 form
      else out += encodeURIComponent(ch);
    }
  }
  return out;
}
