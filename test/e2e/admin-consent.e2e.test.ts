// The consent screens in a real browser, worked by the SPEC §13 labels in English and French: a privacy officer's
// decision (mode, a contact's consent, an erasure) must land in the API exactly as shown, and a viewer must see no control.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminServer,
  addUser,
  expectAccessible,
  expectFitsWidth,
  haveAdminBrowser,
  launchChromium,
  openPage,
  screenshot,
  signInThroughPage,
  startAdminServer,
} from '../helpers/admin-browser.js';
import { createProject, dialects } from '../helpers/harness.js';
import { asUser, signIn } from '../helpers/session.js';

interface HistoryEntry {
  action: string;
  source: string;
}
interface Card {
  trackingStatus: string;
  tracked: boolean;
}

const FR = { email: 'Adresse courriel', password: 'Mot de passe', submit: 'Se connecter' };

/** Waits for the page's h1 to read exactly `text` (a screen loads its chunk and data first). */
async function expectHeading(page: Page, text: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
}

describe.skipIf(!haveAdminBrowser())('admin consent screens in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  for (const dialect of dialects()) describe(dialect, () => {
    let server: AdminServer;
    let pid: string;
    let owner: { email: string; password: string };
    let viewer: { email: string; password: string };
    const ids: Record<string, string> = {};
    const shot = async (page: Page, name: string) => {
      if (dialect === 'sqlite') await screenshot(page, name);
    };

    beforeAll(async () => {
      server = await startAdminServer(dialect);
      pid = await createProject(server.t);
      owner = await addUser(server.t, 'owner');
      viewer = await addUser(server.t, 'viewer', [pid]);
      const merged = await server.t.api<{ results: { contactId: string }[] }>('POST', `/api/v1/projects/${pid}/contacts/merge`, {
        records: [
          { email: 'rita.refused@example.com', hasTrackingConsent: false, dtTrackingConsent: '2025-03-01', fields: { city: 'Montréal' } },
          { email: 'alan.accepted@example.com', hasTrackingConsent: true, dtTrackingConsent: '2025-03-02' },
          { email: 'uma.unanswered@example.com', externalId: 'CRM-42' },
          { email: 'erin.erase@example.com', hasTrackingConsent: true, dtTrackingConsent: '2025-04-01' },
        ],
      });
      const [rita, alan, uma, erin] = merged.body.results.map((r) => r.contactId);
      Object.assign(ids, { rita, alan, uma, erin });
    });
    afterAll(async () => server?.close());

    it('an owner activates the module, switches to opt-in and sees what changed; the API agrees', async () => {
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password);
        await page.goto(`${server.base}/admin/projects/${pid}/settings/tracking`);
        await expectHeading(page, 'Behavioral tracking and data protection');
        const enable = page.getByLabel('Enable behavioral tracking', { exact: true });
        expect(await enable.isChecked()).toBe(false);
        expect(await page.getByLabel('Opt-out', { exact: true }).isChecked()).toBe(true);
        expect(await page.getByLabel('Anonymize past behavior on refusal', { exact: true }).isChecked()).toBe(true);
        await expectAccessible(page, 'tracking settings');
        await enable.check();
        await page.getByLabel('Opt-in', { exact: true }).check();
        await page.getByLabel('Retention of identified events (days)').fill('400');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.getByText('Saved. What changed:').waitFor();
        const changes = await page.locator('ul.changes li').allTextContents();
        expect(changes).toEqual(['Behavioral tracking: off → on', 'Consent mode: Opt-out → Opt-in', 'Retention of identified events (days): 0 → 400']);
        await expectAccessible(page, 'tracking settings saved');
        await shot(page, 'tracking-settings-en');
        const project = await server.t.api<{ tracking: { enabled: boolean; mode: string }; retentionDays: number }>('GET', `/api/v1/projects/${pid}`);
        expect(project.body.tracking).toMatchObject({ enabled: true, mode: 'opt-in' });
        expect(project.body.retentionDays).toBe(400);

        expect(errors).toEqual([]);

        // A value out of range is refused by the server (problem+json naming retentionDays) and said beside its field.
        const retention = page.getByLabel('Retention of identified events (days)');
        await retention.fill('99999');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.waitForFunction(() => document.querySelector('input[aria-invalid="true"]') !== null);
        expect(await retention.getAttribute('aria-invalid')).toBe('true');
        const describedBy = (await retention.getAttribute('aria-describedby')) ?? '';
        expect(await page.locator(`[id="${describedBy.split(' ').at(-1)}"]`).textContent()).toMatch(/36500/);
        // The browser itself logs the refused request; nothing else may have been logged.
        expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
      } finally {
        await close();
      }
    });

    it('the contacts table counts, filters by tracking status and searches', async () => {
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password);
        await page.goto(`${server.base}/admin/projects/${pid}/contacts`);
        await expectHeading(page, 'Contacts');
        await page.getByRole('link', { name: 'rita.refused@example.com' }).waitFor();
        const counts = ((await page.locator('ul.counts').textContent()) ?? '').replace(/\s+/g, ' ');
        expect(counts).toContain('All contacts 4');
        expect(counts).toContain('Refused 1');
        expect(counts).toContain('Tracked now 2');
        expect(counts).toContain('Untracked now 2');
        await expectAccessible(page, 'contacts');
        await shot(page, 'contacts-en');
        await page.getByLabel('Tracking status').selectOption('refused');
        await page.waitForURL(/trackingStatus=refused/);
        await page.getByRole('link', { name: 'alan.accepted@example.com' }).waitFor({ state: 'detached' });
        expect(await page.getByRole('link', { name: /@example\.com$/ }).allTextContents()).toEqual(['rita.refused@example.com']);
        await page.getByLabel('Tracking status').selectOption('');
        await page.getByLabel('Search').fill('crm-4');
        await page.getByRole('button', { name: 'Find' }).click();
        await page.getByRole('link', { name: 'rita.refused@example.com' }).waitFor({ state: 'detached' });
        expect(await page.getByRole('link', { name: /@example\.com$/ }).allTextContents()).toEqual(['uma.unanswered@example.com']);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it("a refused contact's profile shows the status, the history and no sendings; accepting it is recorded as admin:<email>", async () => {
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password);
        await page.goto(`${server.base}/admin/projects/${pid}/contacts/${ids.rita}`);
        await expectHeading(page, 'rita.refused@example.com');
        const profile = page.getByRole('region', { name: 'Profile' });
        await profile.getByRole('heading', { name: 'Tracking status' }).waitFor();
        expect(await profile.locator('.tracking-status .badge').textContent()).toBe('Refused');
        expect(await profile.textContent()).toContain('Montréal');
        const history = page.getByRole('region', { name: 'Consent history' });
        expect(await history.getByRole('row').count()).toBe(2);
        expect(await history.textContent()).toContain('Refusal');
        await page.getByText('This contact is not targeted by behavioural tracking').waitFor();
        expect(await page.getByRole('heading', { name: 'Sendings', exact: true }).count()).toBe(0);
        await expectAccessible(page, 'refused contact profile');
        await shot(page, 'contact-refused-en');

        await page.getByRole('button', { name: 'Accept tracking' }).click();
        const dialog = page.getByRole('dialog', { name: 'Accept tracking?' });
        await dialog.waitFor();
        await expectAccessible(page, 'accept tracking dialog');
        await dialog.getByRole('button', { name: 'Confirm' }).click();
        await dialog.waitFor({ state: 'hidden' });
        await page.getByText('Done: the change is in the consent history.').waitFor();
        expect(await profile.locator('.tracking-status .badge').textContent()).toBe('Accepted');
        await history.getByText(`admin:${owner.email}`).waitFor();
        expect(await page.getByText('This contact is not targeted by behavioural tracking').count()).toBe(0);
        await page.getByRole('heading', { name: 'Sendings', exact: true }).waitFor();
        await shot(page, 'contact-accepted-en');

        const entries = await server.t.api<HistoryEntry[]>('GET', `/api/v1/projects/${pid}/contacts/${ids.rita}/consent-history`);
        expect(entries.body.at(-1)).toMatchObject({ action: 'accepted', source: `admin:${owner.email}` });
        const card = await server.t.api<Card>('GET', `/api/v1/projects/${pid}/contacts/${ids.rita}`);
        expect(card.body).toMatchObject({ trackingStatus: 'accepted', tracked: true });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it('an owner uploads a CSV, maps the consent columns, watches the import run and reads its report', async () => {
      const rows = Array.from({ length: 10000 }, (_, i) => `imp${i}@example.com;${i % 3 === 0 ? 0 : 1};2025-02-${String((i % 28) + 1).padStart(2, '0')};Québec`);
      const csv = `\uFEFFE-mail;Consent;Date;City\n${rows.join('\n')}\nnot-an-email;1;2025-02-01;Laval\n`;
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password);
        await page.goto(`${server.base}/admin/projects/${pid}/imports`);
        await expectHeading(page, 'Imports');
        await page.getByRole('link', { name: 'New import' }).click();
        await expectHeading(page, 'Import contacts from a CSV file');
        await expectAccessible(page, 'new import');
        await page.getByLabel('CSV file').setInputFiles({ name: 'crm-export.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
        // The preview shows the first rows; the header's own names feed email and consent, the date is mapped by hand.
        const preview = page.getByRole('table', { name: 'First rows' });
        await preview.getByRole('cell', { name: 'imp0@example.com' }).waitFor();
        expect(await preview.getByRole('row').count()).toBe(6);
        expect(await page.getByLabel('Delimiter').inputValue()).toBe(';');
        expect(await page.getByLabel('E-mail', { exact: true }).inputValue()).toBe('email');
        expect(await page.getByLabel('Consent', { exact: true }).inputValue()).toBe('hasTrackingConsent');
        expect(await page.getByLabel('City', { exact: true }).inputValue()).toBe('fields.City');
        await page.getByLabel('Date', { exact: true }).selectOption('dtTrackingConsent');
        await page.getByLabel('Create and update').check();
        await expectAccessible(page, 'new import with preview');
        await shot(page, 'import-new-en');
        await page.getByRole('button', { name: 'Start import' }).click();
        await page.waitForURL(/\/imports\/\d+$/);
        const iid = page.url().split('/').pop() ?? '';
        // The 202 answer arrives while the import runs: its progress (rows done, rows/s) is on screen, polled, until the report replaces it.
        const progress = page.getByRole('status').filter({ hasText: /rows done · [\d,]+ rows\/s/ });
        await progress.waitFor({ timeout: 15_000 });
        await shot(page, 'import-running-en');
        await expectAccessible(page, 'import running');
        await page.getByRole('heading', { name: 'Report' }).waitFor({ timeout: 60_000 });
        expect(await page.getByText(/rows done/).count()).toBe(0);
        const figures = ((await page.locator('ul.figures').textContent()) ?? '').replace(/\s+/g, ' ');
        expect(figures).toContain('10,001 Rows read');
        expect(figures).toContain('10,000 Created');
        expect(figures).toContain('10,000 Consent applied');
        expect(figures).toContain('1 Rejected');
        await expectAccessible(page, 'import report');
        await shot(page, 'import-report-en');
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download rejected rows' }).click()]);
        expect(download.suggestedFilename()).toBe(`import-${iid}-rejected.csv`);
        const rejected = await download.createReadStream().then(async (stream) => {
          let text = '';
          for await (const chunk of stream) text += chunk;
          return text;
        });
        expect(rejected).toMatch(/^line,reason,raw\n10002,/);
        const record = await server.t.api<{ status: string; actor: string; counts: { created: number; consentApplied: number; rejected: number } }>('GET', `/api/v1/projects/${pid}/imports/${iid}`);
        expect(record.body).toMatchObject({ status: 'done', actor: `admin:${owner.email}`, counts: { created: 10000, consentApplied: 10000, rejected: 1 } });
        const history = await server.t.api<{ items: { id: string }[] }>('GET', `/api/v1/projects/${pid}/contacts?email=imp3@example.com`);
        const entries = await server.t.api<HistoryEntry[]>('GET', `/api/v1/projects/${pid}/contacts/${history.body.items[0]?.id}/consent-history`);
        expect(entries.body).toEqual([expect.objectContaining({ action: 'refused', source: `import:${iid}` })]);

        await page.goto(`${server.base}/admin/projects/${pid}/imports`);
        await page.getByRole('link', { name: 'crm-export.csv' }).waitFor();
        await expectAccessible(page, 'imports');
        await shot(page, 'imports-en');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it('a privacy request: the access export downloads, the contact is erased after typing its address, the ledger verifies and the audit log says so', async () => {
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password);
        await page.goto(`${server.base}/admin/projects/${pid}/privacy`);
        await expectHeading(page, 'Privacy');
        // The consent dashboard comes first on the Privacy screen (SPEC §13), charts first.
        await page.getByRole('heading', { name: 'Consent dashboard', level: 2 }).waitFor();
        await page.getByRole('region', { name: 'Consent dashboard' }).locator('svg').first().waitFor();
        await expectAccessible(page, 'privacy');
        await page.getByLabel('Contact (email address or external ID)').fill('erin.erase@example.com');
        await page.getByRole('button', { name: 'Find contact' }).click();
        await page.getByRole('link', { name: 'erin.erase@example.com' }).waitFor();
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download access export' }).click()]);
        expect(download.suggestedFilename()).toBe(`contact-${ids.erin}.json`);
        let json = '';
        for await (const chunk of await download.createReadStream()) json += chunk;
        const exported = JSON.parse(json) as { contact: { email: string }; consentHistory: unknown[] };
        expect(exported.contact.email).toBe('erin.erase@example.com');
        expect(exported.consentHistory).toHaveLength(1);

        await page.getByRole('button', { name: 'Erase contact' }).click();
        const dialog = page.getByRole('dialog', { name: 'Erase this contact?' });
        await dialog.waitFor();
        const confirm = dialog.getByRole('button', { name: 'Erase permanently' });
        expect(await confirm.isDisabled()).toBe(true);
        await dialog.getByLabel('Type erin.erase@example.com to confirm').fill('erin.erase@example.co');
        expect(await confirm.isDisabled()).toBe(true);
        await dialog.getByLabel('Type erin.erase@example.com to confirm').fill('erin.erase@example.com');
        await expectAccessible(page, 'erase dialog');
        await shot(page, 'privacy-erase-dialog-en');
        await confirm.click();
        await page.getByText('erin.erase@example.com was erased.').waitFor();
        const gone = await server.t.api('GET', `/api/v1/projects/${pid}/contacts/${ids.erin}`);
        expect(gone.status).toBe(404);

        await page.getByRole('button', { name: 'Verify the ledger' }).click();
        await page.getByText(/^The ledger is intact: [\d,]+ entries checked/).waitFor();

        const audit = page.getByRole('region', { name: 'Audit log' });
        await audit.getByRole('cell', { name: 'contacts.delete' }).waitFor();
        expect(await audit.getByRole('cell', { name: `user:${owner.email}` }).count()).toBeGreaterThan(2);
        await audit.getByLabel('Action').fill('contacts.tracking-consent');
        await audit.getByRole('button', { name: 'Filter' }).click();
        await audit.getByRole('cell', { name: 'contacts.delete' }).waitFor({ state: 'detached' });
        expect(new Set(await audit.locator('tbody tr td:nth-child(3)').allTextContents())).toEqual(new Set(['contacts.tracking-consent']));
        await expectAccessible(page, 'privacy after erasure');
        await shot(page, 'privacy-en');
        const log = await server.t.api<{ items: { actor: string; action: string; outcome: string }[] }>('GET', `/api/v1/projects/${pid}/audit-log?action=contacts.delete`);
        expect(log.body.items[0]).toMatchObject({ actor: `user:${owner.email}`, action: 'contacts.delete', outcome: 'ok' });
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it('a viewer sees no control to change anything, and the API refuses them with 403', async () => {
      const { page, errors, close } = await openPage(browser);
      try {
        await signInThroughPage(page, server.base, viewer.email, viewer.password);
        await page.goto(`${server.base}/admin/projects/${pid}/settings/tracking`);
        await expectHeading(page, 'Behavioral tracking and data protection');
        await page.getByText('Your role lets you read these settings, not change them.').waitFor();
        expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
        expect(await page.getByRole('checkbox').count()).toBe(0);
        expect(await page.getByRole('radio').count()).toBe(0);
        await expectAccessible(page, 'tracking settings (viewer)');
        await page.goto(`${server.base}/admin/projects/${pid}/contacts/${ids.uma}`);
        await page.getByRole('heading', { name: 'Tracking status' }).waitFor();
        expect(await page.getByRole('button', { name: 'Accept tracking' }).count()).toBe(0);
        expect(await page.getByRole('button', { name: 'Refuse tracking' }).count()).toBe(0);
        await shot(page, 'contact-viewer-en');
        await page.goto(`${server.base}/admin/projects/${pid}/imports`);
        await page.getByRole('link', { name: 'crm-export.csv' }).waitFor();
        expect(await page.getByRole('link', { name: 'New import' }).count()).toBe(0);
        await page.goto(`${server.base}/admin/projects/${pid}/imports/new`);
        await page.getByText('Your role does not allow importing contacts.').waitFor();
        expect(await page.getByLabel('CSV file').count()).toBe(0);
        await page.goto(`${server.base}/admin/projects/${pid}/privacy`);
        await page.getByText(/Your role does not give access to the privacy tools/).waitFor();
        expect(await page.getByRole('button').filter({ hasNotText: /Sign out/ }).count()).toBe(0);
        await expectAccessible(page, 'privacy (viewer)');

        const session = await signIn(server.t, viewer.email, viewer.password);
        const put = await asUser(server.t, session, 'PUT', `/api/v1/projects/${pid}/contacts/${ids.uma}/tracking-consent`, { consent: true });
        expect(put.status).toBe(403);
        const patch = await asUser(server.t, session, 'PATCH', `/api/v1/projects/${pid}`, { tracking: { mode: 'opt-out' } });
        expect(patch.status).toBe(403);
        const erase = await asUser(server.t, session, 'DELETE', `/api/v1/projects/${pid}/contacts/${ids.uma}`);
        expect(erase.status).toBe(403);
        const audit = await asUser(server.t, session, 'GET', `/api/v1/projects/${pid}/audit-log`);
        expect(audit.status).toBe(403);
        const upload = await server.t.app.inject({
          method: 'POST',
          url: `/api/v1/projects/${pid}/imports?async=true`,
          headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'text/csv' },
          payload: 'email\nv@example.com\n',
        });
        expect(upload.statusCode).toBe(403);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it('every page reads in French, stays accessible and fits 390 px', async () => {
      const { page, errors, close } = await openPage(browser, { mobile: true, locale: 'fr-CA' });
      try {
        await signInThroughPage(page, server.base, owner.email, owner.password, FR);
        await page.goto(`${server.base}/admin/projects/${pid}/settings/tracking`);
        await expectHeading(page, 'Suivi comportemental et protection des données');
        await page.getByLabel('Activer le suivi comportemental', { exact: true }).waitFor();
        expect(await page.getByLabel('Opt-in', { exact: true }).isChecked()).toBe(true);
        await page.getByLabel('Anonymiser le comportement passé en cas de refus', { exact: true }).waitFor();
        await page.getByRole('button', { name: 'Enregistrer' }).waitFor();
        await expectAccessible(page, 'réglages du suivi');
        await expectFitsWidth(page, 'réglages du suivi');
        await shot(page, 'tracking-settings-fr-390');

        await page.goto(`${server.base}/admin/projects/${pid}/contacts`);
        await expectHeading(page, 'Contacts');
        await page.getByLabel('Statut de suivi').waitFor();
        await page.getByRole('link', { name: 'uma.unanswered@example.com' }).waitFor();
        await expectAccessible(page, 'contacts (fr)');
        await expectFitsWidth(page, 'contacts (fr)');
        await shot(page, 'contacts-fr-390');

        await page.goto(`${server.base}/admin/projects/${pid}/contacts/${ids.uma}`);
        await page.getByRole('heading', { name: 'Statut de suivi' }).waitFor();
        expect(await page.locator('.tracking-status .badge').textContent()).toBe('Sans réponse');
        await page.getByRole('heading', { name: 'Historique du consentement' }).waitFor();
        await page.getByText('Ce contact n’est pas ciblé par le suivi comportemental').waitFor();
        await page.getByRole('button', { name: 'Refuser le suivi' }).click();
        await page.getByRole('dialog', { name: 'Refuser le suivi?' }).getByRole('button', { name: 'Annuler' }).click();
        await page.getByRole('button', { name: 'Accepter le suivi' }).waitFor();
        await expectAccessible(page, 'profil (fr)');
        await expectFitsWidth(page, 'profil (fr)');
        await shot(page, 'contact-fr-390');

        await page.goto(`${server.base}/admin/projects/${pid}/imports`);
        await expectHeading(page, 'Importations');
        await page.getByRole('link', { name: 'crm-export.csv' }).click();
        await page.getByRole('heading', { name: 'Rapport' }).waitFor();
        await page.getByRole('button', { name: 'Télécharger les lignes rejetées' }).waitFor();
        await expectAccessible(page, 'importation (fr)');
        await expectFitsWidth(page, 'importation (fr)');
        await shot(page, 'import-report-fr-390');
        await page.goto(`${server.base}/admin/projects/${pid}/imports/new`);
        await expectHeading(page, 'Importer des contacts depuis un fichier CSV');
        await page.getByLabel('Fichier CSV').setInputFiles({ name: 'petit.csv', mimeType: 'text/csv', buffer: Buffer.from('Courriel,Consentement,Date du consentement\nzoe@example.com,1,2025-05-05\n') });
        expect(await page.getByLabel('Courriel', { exact: true }).inputValue()).toBe('email');
        expect(await page.getByLabel('Consentement', { exact: true }).inputValue()).toBe('hasTrackingConsent');
        expect(await page.getByLabel('Date du consentement', { exact: true }).inputValue()).toBe('dtTrackingConsent');
        await page.getByLabel('Créer seulement').waitFor();
        await expectAccessible(page, 'nouvelle importation (fr)');
        await expectFitsWidth(page, 'nouvelle importation (fr)');
        await shot(page, 'import-new-fr-390');
        await page.getByRole('button', { name: 'Lancer l’importation' }).click();
        await page.getByRole('heading', { name: 'Rapport' }).waitFor();
        expect(((await page.locator('ul.figures').textContent()) ?? '').replace(/\s+/g, ' ')).toContain('1 Créés');

        await page.goto(`${server.base}/admin/projects/${pid}/privacy`);
        await expectHeading(page, 'Vie privée');
        await page.getByRole('heading', { name: 'Tableau de bord du consentement', level: 2 }).waitFor();
        await page.getByLabel('Contact (adresse courriel ou identifiant externe)').fill('CRM-42');
        await page.getByRole('button', { name: 'Trouver le contact' }).click();
        await page.getByRole('link', { name: 'uma.unanswered@example.com' }).waitFor();
        await page.getByRole('button', { name: 'Vérifier le registre' }).click();
        await page.getByText(/^Le registre est intact/).waitFor();
        await page.getByRole('region', { name: 'Journal d’audit' }).getByRole('cell', { name: 'contacts.delete' }).first().waitFor();
        await expectAccessible(page, 'vie privée (fr)');
        await expectFitsWidth(page, 'vie privée (fr)');
        await shot(page, 'privacy-fr-390');
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });
  });
});
