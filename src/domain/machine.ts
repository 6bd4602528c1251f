export type DeviceClass = 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';

export interface HitInput {
  kind: 'open' | 'click';
  userAgent: string | undefined;
  /** Request headers with lower-case names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** When the message was handed to the transport (epoch ms), when known. */
  deliveredAt: number | null;
  now: number;
}

export interface HitClass {
  /** false for prefetches: not an event at all. */
  count: boolean;
  /** Recorded, but reported apart from human opens and clicks. */
  machine: boolean;
  device: DeviceClass;
}

/** A click this soon after delivery was made by a link scanner, not a reader. */
export const MACHINE_CLICK_WINDOW_MS = 2000;

// Mail security gateways, link scanners, preview fetchers, HTTP libraries and headless browsers.
const BOT_UA = new RegExp(
  [
    'bot\\b', 'bot/', 'crawl', 'spider', 'slurp', 'preview', 'scanner', 'barracuda', 'mimecast', 'proofpoint', 'ppe-hosted',
    'messagelabs', 'symantec', 'trend ?micro', 'forcepoint', 'sophos', 'fortiguard', 'ironport', 'mcafee', 'zscaler',
    'check ?point', 'safelinks', 'existence discovery', 'protocol discovery', 'libwww', 'curl/', 'wget/',
    'python-requests', 'python-urllib', 'python-httpx', 'aiohttp', 'go-http-client', 'java/', 'okhttp', 'apache-httpclient',
    'node-fetch', 'axios/', 'undici', 'headlesschrome', 'phantomjs', 'scrapy', 'facebookexternalhit', 'whatsapp',
    'slackbot', 'discordbot', 'telegrambot', 'skypeuripreview', 'linkedinbot', 'embedly', 'validator',
  ].join('|'),
  'i',
);
// Outlook desktop fetches images when a person reads (a human open), but never follows links itself.
const OFFICE_UA = /microsoft office|msoffice|ms-office|microsoft outlook/i;
// Gmail and Yahoo fetch images through their proxies when the reader opens: human, device unknown.
const MAIL_PROXY_UA = /googleimageproxy|yahoomailproxy/i;
const APPLE_MPP_WEBKIT = /^Mozilla\/5\.0 \([^)]*\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)$/;

function header(headers: HitInput['headers'], name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

function isPrefetch(headers: HitInput['headers']): boolean {
  return (
    /prefetch|prerender/i.test(header(headers, 'sec-purpose')) ||
    /prefetch/i.test(header(headers, 'purpose')) ||
    /prefetch/i.test(header(headers, 'x-moz')) ||
    /preview/i.test(header(headers, 'x-purpose'))
  );
}

/** Apple Mail Privacy Protection fetches every pixel through a proxy with a bare or Safari-less WebKit UA. */
function isAppleMppOpen(ua: string): boolean {
  return ua === 'Mozilla/5.0' || APPLE_MPP_WEBKIT.test(ua);
}

/**
 * Coarse device class from a user agent.
 *
 * @example deviceClass('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) …') // 'mobile'
 */
export function deviceClass(ua: string | undefined): DeviceClass {
  if (!ua) return 'unknown';
  if (BOT_UA.test(ua)) return 'bot';
  if (MAIL_PROXY_UA.test(ua)) return 'unknown';
  if (/ipad|tablet|kindle|silk\/|playbook/i.test(ua) || (/android/i.test(ua) && !/mobile/i.test(ua))) return 'tablet';
  if (/mobi|iphone|ipod|android|windows phone|blackberry|opera mini/i.test(ua)) return 'mobile';
  if (/windows nt|macintosh|mac os x|x11|linux|cros/i.test(ua)) return 'desktop';
  return 'unknown';
}

/**
 * Decides whether a tracking hit counts and whether a machine made it:
 * prefetches do not count; Apple MPP proxy opens, scanners and bots, and
 * clicks within {@link MACHINE_CLICK_WINDOW_MS} of delivery are machine.
 *
 * @example classifyHit({ kind: 'open', userAgent: 'Mozilla/5.0', headers: {}, deliveredAt: null, now }) // { count: true, machine: true, device: 'unknown' }
 */
export function classifyHit(input: HitInput): HitClass {
  const ua = (input.userAgent ?? '').trim();
  const count = !isPrefetch(input.headers);
  const device = deviceClass(ua);
  if (ua === '' || device === 'bot') return { count, machine: true, device: 'bot' };
  if (input.kind === 'open' && isAppleMppOpen(ua)) return { count, machine: true, device: 'unknown' };
  if (input.kind === 'click' && OFFICE_UA.test(ua)) return { count, machine: true, device: 'bot' };
  const tooFast = input.kind === 'click' && input.deliveredAt !== null && input.now - input.deliveredAt < MACHINE_CLICK_WINDOW_MS;
  return { count, machine: tooFast, device };
}
