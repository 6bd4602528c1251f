// Shared pieces of the admin app's browser tests (test/e2e/admin-*.e2e.test.ts): a served app, one
// Chromium, sign-in through /admin/login, axe-core on every page, console errors collected, screenshots.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Config } from '../../src/config.js';
import { type DialectName, startTestApp, type TestApp } from './harness.js';
import { createUser } from './session.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = join(process.cwd(), 'test-results', 'screenshots', 'admin');
const DIST = join(process.cwd(), 'web', 'dist');

/**
 * Whether the admin browser tests can run. In CI a missing browser or a missing build is a failure
 * (`.ci/run` installs Chromium; `npm ci` builds the app), elsewhere the file is skipped with a warning.
 */
export function haveAdminBrowser(): boolean {
  const missing = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium)` : !existsSync(join(DIST, 'index.html')) ? 'the admin app is not built (npm run build:web)' : null;
  if (!missing) return true;
  if (process.env.CI) throw new Error(`admin browser tests cannot run: ${missing}`);
  console.warn(`Skipping admin browser tests: ${missing}`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export interface AdminServer {
  t: TestApp;
  /** http://127.0.0.1:<port> */
  base: string;
  close(): Promise<void>;
}

/** A test app on a real port, serving the built admin app. */
export async function startAdminServer(dialect: DialectName, overrides: Partial<Config> = {}): Promise<AdminServer> {
  const t = await startTestApp(dialect, overrides, undefined, { adminDist: DIST });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no port');
  return { t, base: `http://127.0.0.1:${address.port}`, close: () => t.close() };
}

/** Creates a user with a password (through the API, with the admin key) and returns its credentials. */
export async function addUser(t: TestApp, role: string, projects: string[] = [], email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`) {
  const password = `pw-${role}-correct-horse`;
  await createUser(t, { email, password, role, projects, name: role });
  return { email, password };
}

export interface AdminPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far (a screen must have none). */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh browser context (390 px wide when `mobile`) with console errors collected. */
export async function openPage(browser: Browser, options: { mobile?: boolean; locale?: string } = {}): Promise<AdminPage> {
  const context = await browser.newContext({ viewport: options.mobile ? { width: 390, height: 844 } : { width: 1280, height: 900 }, locale: options.locale ?? 'en-US' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return { context, page, errors, close: () => context.close() };
}

/** Signs in through the login page by its labels (SPEC §13) and waits to leave it. */
export async function signInThroughPage(page: Page, base: string, email: string, password: string, labels = { email: 'Email', password: 'Password', submit: 'Sign in' }): Promise<void> {
  await page.goto(`${base}/admin/login`);
  await page.getByLabel(labels.email, { exact: true }).fill(email);
  await page.getByLabel(labels.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: labels.submit }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/login'));
}

/** No serious or critical axe-core violation on the page as it is now. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`),
    `axe-core on ${where}`,
  ).toEqual([]);
}

/** Nothing wider than the viewport at 390 px (no horizontal scrolling of the page itself). */
export async function expectFitsWidth(page: Page, where: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `horizontal overflow on ${where}`).toBeLessThanOrEqual(1);
}

/** Saves a full-page screenshot as a test artifact (test-results/screenshots/admin/<name>.png). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
