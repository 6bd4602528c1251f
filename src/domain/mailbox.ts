import { isValidEmail } from './contact.js';
import { AppError } from './errors.js';

// A display name: atoms (no specials of RFC 5322 §3.2.3) separated by spaces, or one quoted string.
const DISPLAY_NAME = /^(?:[^\s"(),.:;<>@[\]\\\u0000-\u001f\u007f]+(?: +[^\s"(),:;<>@[\]\\\u0000-\u001f\u007f]+)*|"(?:[^"\\\r\n]|\\[^\r\n])*")$/;
const NAME_ADDR = /^(.*?)\s*<([^<>]+)>$/;

/**
 * A message's `from` is exactly one RFC 5322 mailbox: `addr@domain` or `Display Name <addr@domain>`
 * (a quoted display name may hold specials). No line break (a header injection), no second address, no
 * free text. Returns the value trimmed, or throws InvalidMessage naming `from`.
 *
 * @example parseFromMailbox('News <news@example.com>') // 'News <news@example.com>'
 * @example parseFromMailbox('news@example.com\r\nBcc: x@evil.io') // throws
 */
export function parseFromMailbox(input: string): string {
  const value = input.trim();
  if (/[\r\n\u0000]/.test(input)) throw fromProblem('must be one mailbox on one line (no CR or LF)');
  const nameAddr = NAME_ADDR.exec(value);
  const address = nameAddr ? (nameAddr[2] as string) : value;
  const name = nameAddr ? (nameAddr[1] as string) : '';
  if (!isValidEmail(address.toLowerCase())) throw fromProblem('must be one address such as news@example.com or "News" <news@example.com>');
  if (name !== '' && !DISPLAY_NAME.test(name)) throw fromProblem('the display name must be words or a quoted string, with one address in <…>');
  return value;
}

function fromProblem(reason: string): AppError {
  return new AppError('InvalidMessage', `from: ${reason}`, [{ field: 'from', reason }]);
}
