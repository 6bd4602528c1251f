// Machine opens and clicks (Apple MPP, link scanners) would otherwise inflate results and make
// scanners look like engaged readers; prefetches must not be events at all.
import { describe, expect, it } from 'vitest';
import { type HitInput, classifyHit, deviceClass } from './machine.js';

const UA = {
  chromeWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  iphoneApp: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  androidPhone: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  androidTablet: 'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  mppWebKit: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  gmailProxy: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
  outlookDesktop: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)',
};

const NOW = 1_800_000_000_000;
const hit = (over: Partial<HitInput>) => classifyHit({ kind: 'open', userAgent: UA.chromeWin, headers: {}, deliveredAt: null, now: NOW, ...over });

describe('classifyHit', () => {
  it('counts an ordinary browser open or click as human', () => {
    expect(hit({})).toEqual({ count: true, machine: false, device: 'desktop' });
    expect(hit({ kind: 'click', userAgent: UA.iphone, deliveredAt: NOW - 60_000 })).toEqual({ count: true, machine: false, device: 'mobile' });
  });

  it('does not count prefetches', () => {
    for (const headers of [{ 'sec-purpose': 'prefetch' }, { 'sec-purpose': 'prefetch;prerender' }, { purpose: 'prefetch' }, { 'x-moz': 'prefetch' }, { 'x-purpose': 'preview' }]) {
      expect(hit({ kind: 'click', headers }).count).toBe(false);
    }
    expect(hit({ headers: { 'sec-purpose': ['prefetch'] } }).count).toBe(false);
  });

  it('flags Apple Mail Privacy Protection proxy opens as machine', () => {
    expect(hit({ userAgent: 'Mozilla/5.0' })).toEqual({ count: true, machine: true, device: 'unknown' });
    expect(hit({ userAgent: UA.mppWebKit }).machine).toBe(true);
    expect(hit({ userAgent: UA.safariMac }).machine).toBe(false);
  });

  it('does not flag an in-app WebKit click (no Safari token) as machine', () => {
    expect(hit({ kind: 'click', userAgent: UA.iphoneApp })).toEqual({ count: true, machine: false, device: 'mobile' });
  });

  it('flags scanners, bots, HTTP libraries and headless browsers', () => {
    const bots = [
      'Barracuda Sentinel (EE)',
      'Mozilla/5.0 (compatible; Mimecast/1.0)',
      'Proofpoint URL Defense',
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'Mozilla/5.0 (compatible; bingbot/2.0)',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b',
      'curl/8.5.0',
      'python-requests/2.31.0',
      'Go-http-client/1.1',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
      'Microsoft Office Existence Discovery',
      'facebookexternalhit/1.1',
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    ];
    for (const userAgent of bots) {
      for (const kind of ['open', 'click'] as const) expect(hit({ kind, userAgent }), userAgent).toEqual({ count: true, machine: true, device: 'bot' });
    }
  });

  it('treats a missing user agent as a machine', () => {
    expect(hit({ userAgent: undefined }).machine).toBe(true);
    expect(hit({ kind: 'click', userAgent: '  ' }).machine).toBe(true);
  });

  it('counts an Outlook desktop open as human but an Outlook-fetched click as a scanner', () => {
    expect(hit({ userAgent: UA.outlookDesktop }).machine).toBe(false);
    expect(hit({ kind: 'click', userAgent: UA.outlookDesktop }).machine).toBe(true);
  });

  it('counts a Gmail image proxy open as human with an unknown device', () => {
    expect(hit({ userAgent: UA.gmailProxy })).toEqual({ count: true, machine: false, device: 'unknown' });
  });

  it('flags clicks within 2 seconds of delivery, not later ones and not opens', () => {
    expect(hit({ kind: 'click', deliveredAt: NOW - 1500 }).machine).toBe(true);
    expect(hit({ kind: 'click', deliveredAt: NOW - 2000 }).machine).toBe(false);
    expect(hit({ kind: 'click', deliveredAt: null }).machine).toBe(false);
    expect(hit({ kind: 'open', deliveredAt: NOW - 500 }).machine).toBe(false);
  });
});

describe('deviceClass', () => {
  it('tells desktops, phones and tablets apart', () => {
    expect(deviceClass(UA.chromeWin)).toBe('desktop');
    expect(deviceClass(UA.safariMac)).toBe('desktop');
    expect(deviceClass(UA.iphone)).toBe('mobile');
    expect(deviceClass(UA.androidPhone)).toBe('mobile');
    expect(deviceClass(UA.androidTablet)).toBe('tablet');
    expect(deviceClass(UA.ipad)).toBe('tablet');
    expect(deviceClass('SomethingElse/1.0')).toBe('unknown');
    expect(deviceClass(undefined)).toBe('unknown');
  });
});
