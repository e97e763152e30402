/**
 * The console in a real browser (Debian's headless Chromium driven by playwright-core) against the real bridge
 * process reading a real MariaDB: a registration written to the source shows up as PatientCreated within 2 s, the
 * row expands to its JSON, filtering by type reconnects the stream with `types` and shows only that type, and the
 * side panels show capture health and a registered webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { freePort, startMariaDb, type MariaDbServer } from '../support/mariadb.js';
import { PROJECT_ROOT, startBridge, waitReady, type BridgeProcess } from '../../demo/bridge-process.js';
import { startReceiver, type DemoReceiver } from '../../demo/receiver.js';
import { adoptRefappMetadata } from '../../demo/refapp-metadata.js';
import { OpenmrsActions, seedMetadata } from '../../demo/openmrs/actions.js';

const CHROMIUM = '/usr/bin/chromium';
const DATA = join(PROJECT_ROOT, 'demo', 'data');

let db: MariaDbServer;
let bridge: BridgeProcess | undefined;
let receiver: DemoReceiver;
let browser: BrowserContext | undefined;
let profile: string;
let page: Page;
let conn: mysql.Connection;
let om: OpenmrsActions;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/ensure-services.sh (apt-get install chromium)`);
  db = await startMariaDb({ extraArgs: ['--default-time-zone=+00:00'] });
  await db.loadDump('openmrs', join(DATA, 'refapp-2.x-demo-100-patients.sql'));
  await db.loadDump('openmrs', join(DATA, 'upgrade-to-2.6.4.sql'));
  conn = await mysql.createConnection({ uri: db.url('openmrs'), dateStrings: true });
  await adoptRefappMetadata(conn);
  om = new OpenmrsActions(conn, await seedMetadata(conn));

  await mkdir(join(PROJECT_ROOT, '.tmp'), { recursive: true });
  bridge = startBridge(
    {
      BRIDGE_SOURCE_URL: db.url('openmrs'),
      BRIDGE_SITE: 'e2e',
      BRIDGE_HTTP_PORT: String(await freePort()),
      BRIDGE_SOURCE_TIMEZONE: 'UTC',
    },
    join(PROJECT_ROOT, '.tmp', `e2e-console-bridge-${process.pid}.log`),
  );
  await waitReady(bridge, 90_000);
  receiver = await startReceiver();
  const res = await fetch(`${bridge.baseUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, guarantee: 'post-commit', description: 'e2e console test' }),
  });
  expect(res.status).toBe(201);
  receiver.setSecret(((await res.json()) as { secret: string }).secret);

  profile = await mkdtemp(join(tmpdir(), 'bridge-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  await page.goto(`${bridge.baseUrl}/`);
  await page.waitForSelector('#stream-state.pill-ok', { timeout: 15_000 });
});

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await conn?.end();
  await bridge?.stop();
  await receiver?.close();
  await db?.stop();
});

describe('the console', () => {
  it('shows a PatientCreated within 2 s of a registration written to the source', async () => {
    const p = await om.registerPatient({
      names: [{ givenName: 'Wanjiru', familyName: 'Browsertest', preferred: true }],
    });
    const committed = Date.now();
    const row = await page.waitForSelector(
      `tr.event-row[data-type="PatientCreated"][data-patient="${p.patientUuid}"]`,
      { timeout: 2_000 },
    );
    expect(Date.now() - committed).toBeLessThan(2_000);
    expect(await row.textContent()).toContain('Wanjiru Browsertest');

    await row.click();
    const json = await page.textContent('tr.detail pre');
    const event = JSON.parse(json!) as { type: string; patientuuid: string; source: string; specversion: string };
    expect(event).toMatchObject({
      type: 'PatientCreated',
      patientuuid: p.patientUuid,
      source: 'openmrs://e2e',
      specversion: '1.0',
    });
  });

  it('filters by type', async () => {
    await page.fill('#filter-types', 'VisitStarted');
    await page.click('#apply-filters');
    await page.waitForSelector('#stream-state.pill-ok:has-text("types VisitStarted")', { timeout: 10_000 });
    expect(new URL(page.url()).searchParams.get('types')).toBe('VisitStarted');
    expect(await page.$$('tr.event-row')).toHaveLength(0);

    const p = await om.registerPatient();
    const v = await om.startVisit(p.patientId);
    await om.endVisit(v.visitId);
    await page.waitForSelector(`tr.event-row[data-type="VisitStarted"][data-patient="${p.patientUuid}"]`, {
      timeout: 2_000,
    });
    // The registration and the visit's end came in the same order around it, and the filter kept them out.
    await page.waitForTimeout(300);
    const types = await page.$$eval('tr.event-row', (rows) => rows.map((r: any) => r.dataset.type as string));
    expect(types).toEqual(['VisitStarted']);

    // A filter the API refuses says why, instead of retrying forever.
    await page.fill('#filter-types', 'NoSuchEvent');
    await page.click('#apply-filters');
    await page.waitForSelector('#stream-state.pill-bad:has-text("NoSuchEvent")', { timeout: 10_000 });

    // Clear goes back to every type.
    await page.click('#clear-filters');
    await page.waitForSelector('#stream-state.pill-ok:text-is("live")', { timeout: 10_000 });
    const q = await om.registerPatient();
    await page.waitForSelector(`tr.event-row[data-type="PatientCreated"][data-patient="${q.patientUuid}"]`, {
      timeout: 2_000,
    });
  });

  it('shows capture health, counts and the registered webhook', async () => {
    await page.waitForSelector('#ready.pill-ok', { timeout: 10_000 });
    // So far: 3 registrations, a visit started and ended (5 transactions, 5 events), all delivered to the hook.
    // (String functions: they run in the browser, and this file is compiled without the DOM types.)
    await page.waitForFunction(
      "Number(document.getElementById('tx-total').textContent.replace(/\\D/g, '')) >= 5",
      null,
      {
        timeout: 10_000,
      },
    );
    await page.waitForFunction(
      `[...document.querySelectorAll('#type-rows tr')].some((tr) => tr.textContent.startsWith('PatientCreated') && tr.textContent.endsWith('3'))`,
      null,
      { timeout: 10_000 },
    );
    const hook = await page.waitForSelector(`li.hook:has-text("${receiver.url}")`, { timeout: 10_000 });
    await page.waitForFunction(
      `/\\b[5-9] ok|\\b\\d\\d+ ok/.test(document.querySelector('li.hook .hook-facts').textContent)`,
      null,
      { timeout: 10_000 },
    );
    expect(await hook.textContent()).toMatch(/active.*post-commit.*0 failed attempts.*0 dead letters/s);
    expect(receiver.stats.events).toBeGreaterThanOrEqual(5);
    expect(receiver.stats.badSignatures).toBe(0);
    expect(await page.textContent('#channel-rows tr[data-channel="websocket"]')).toMatch(/websocket\s*[1-9]/);
    await mkdir(join(PROJECT_ROOT, '.tmp'), { recursive: true });
    await page.screenshot({ path: join(PROJECT_ROOT, '.tmp', 'console-e2e.png') });
  });
});

describe('the console with a token', () => {
  const token = 'e2e-admin-token-0123456789';
  let secured: BridgeProcess | undefined;

  beforeAll(async () => {
    // A second bridge on the same source, with its own state database, site (hence server id) and an admin token.
    secured = startBridge(
      {
        BRIDGE_SOURCE_URL: db.url('openmrs'),
        BRIDGE_STATE_URL: db.url('bridge_state_secured'),
        BRIDGE_SITE: 'e2e-secured',
        BRIDGE_HTTP_PORT: String(await freePort()),
        BRIDGE_SOURCE_TIMEZONE: 'UTC',
        BRIDGE_ADMIN_TOKEN: token,
      },
      join(PROJECT_ROOT, '.tmp', `e2e-console-secured-${process.pid}.log`),
    );
    await waitReady(secured, 90_000, token);
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('asks for the token, then streams with it', async () => {
    const tab = await browser!.newPage();
    try {
      await tab.goto(`${secured!.baseUrl}/`);
      await tab.waitForSelector('#token-form:not([hidden])', { timeout: 10_000 });
      await tab.waitForSelector('#stream-state.pill-bad:has-text("token")', { timeout: 10_000 });
      await tab.fill('#token', token);
      await tab.click('#token-form button[type="submit"]');
      await tab.waitForSelector('#stream-state.pill-ok', { timeout: 10_000 });
      expect(await tab.isHidden('#token-form')).toBe(true);
      const p = await om.registerPatient();
      await tab.waitForSelector(`tr.event-row[data-type="PatientCreated"][data-patient="${p.patientUuid}"]`, {
        timeout: 2_000,
      });
      // The admin token opens the webhooks panel too.
      await tab.waitForSelector('#webhooks-note:has-text("No webhooks registered")', { timeout: 10_000 });
    } finally {
      await tab.close();
    }
  });

  it('takes the token from the link fragment', async () => {
    const tab = await browser!.newPage();
    try {
      await tab.goto(`${secured!.baseUrl}/#access_token=${token}`);
      await tab.waitForSelector('#stream-state.pill-ok', { timeout: 10_000 });
      // The fragment is dropped from the address bar once read.
      expect(new URL(tab.url()).hash).toBe('');
    } finally {
      await tab.close();
    }
  });
});
