// The admin app's shell in a real browser: sign-in by the SPEC §13 labels, the projects page, the language
// switch, sign-out; axe-core and console errors on each, at desktop and 390 px widths.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, expectAccessible, expectFitsWidth, haveAdminBrowser, launchChromium, openPage, screenshot, signInThroughPage, startAdminServer, type AdminServer } from '../helpers/admin-browser.js';
import { createProject, dialects } from '../helpers/harness.js';

describe.skipIf(!haveAdminBrowser())('admin shell in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let server: AdminServer;
    beforeAll(async () => {
      server = await startAdminServer(dialect);
    });
    afterAll(async () => server?.close());

    it('an owner signs in, sees the projects, switches to French and signs out', async () => {
      const pid = await createProject(server.t);
      const owner = await addUser(server.t, 'owner');
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password);
        await page.goto(`${server.base}/admin/projects`);
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Projects');
        await expect(page.getByRole('link', { name: /^p-/ }).first().isVisible()).resolves.toBe(true);
        await expectAccessible(page, 'projects');
        if (dialect === 'sqlite') await screenshot(page, 'projects-en');
        await page.getByLabel('Language').selectOption('fr');
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Projets');
        await expect(page.getAttribute('html', 'lang')).resolves.toBe('fr');
        await page.getByLabel('Langue').selectOption('en');
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.waitForURL(/\/admin\/login/);
        expect(errors).toEqual([]);
        expect(pid).toBeTruthy();
      } finally {
        await close();
      }
    });

    it('the login page is accessible and fits 390 px', async () => {
      const { page, errors, close } = await openPage(browser, { mobile: true });
      try {
        await page.goto(`${server.base}/admin/login`);
        await page.getByRole('button', { name: 'Sign in' }).waitFor();
        await expectAccessible(page, 'login');
        await expectFitsWidth(page, 'login');
        if (dialect === 'sqlite') await screenshot(page, 'login-390');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  });
});
