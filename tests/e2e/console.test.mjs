// End-to-end tests of the web console: the real `triage` binary on loopback with a fresh data
// directory, driven through Debian's headless Chromium by playwright-core (no browser download).
//
//   TRIAGE_BIN          the binary to test (default: $CARGO_TARGET_DIR or ./target, debug/triage)
//   CHROMIUM            the browser (default /usr/bin/chromium)
//   TRIAGE_SCREENSHOTS  a folder to save a screenshot of each view into (docs/console in the repo)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
const BIN = process.env.TRIAGE_BIN || path.join(TARGET, 'debug', 'triage');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.TRIAGE_SCREENSHOTS ? path.resolve(process.env.TRIAGE_SCREENSHOTS) : null;
const TENANT = 'northmoor';

let server;
let base;
let browser;
const keys = {};

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function call(method, url, key, body, at = base) {
  const res = await fetch(at + url, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Resolved tickets in three categories the starter model does not know, so a retrained model
 * is clearly better on them and promotion is not refused. One in seven carries the next kind's
 * labels (desks mislabel), so the evaluation shows a real confusion matrix and calibration. */
function resolvedTickets() {
  const kinds = [
    { category: 'print', group: 'print-team', subjects: ['printer', 'toner', 'paper jam', 'print queue', 'scanner', 'photocopier'],
      verbs: ['not printing', 'shows an error', 'stuck', 'offline', 'jammed again', 'prints blank pages'] },
    { category: 'identity', group: 'identity-team', subjects: ['password', 'account', 'MFA prompt', 'sign-in', 'authenticator app', 'login'],
      verbs: ['locked', 'expired', 'not accepted', 'keeps asking', 'reset needed', 'disabled'] },
    { category: 'network', group: 'network-team', subjects: ['VPN', 'wifi', 'network drive', 'internet', 'remote desktop', 'ethernet port'],
      verbs: ['drops out', 'very slow', 'will not connect', 'times out', 'no signal', 'disconnects'] },
  ];
  const tickets = [];
  const day = 86400000;
  let n = 0;
  for (const [k, kind] of kinds.entries()) {
    for (const subject of kind.subjects) {
      for (const verb of kind.verbs) {
        n += 1;
        const labelled = n % 7 === 0 ? kinds[(k + 1) % kinds.length] : kind;
        const resolved = new Date(Date.now() - (n % 20) * day).toISOString().replace(/\.\d+Z$/, 'Z');
        tickets.push({
          tenant: TENANT,
          external_id: `E2E${String(n).padStart(4, '0')}`,
          title: `${subject} ${verb}`,
          description: `Caller reports the ${subject} ${verb} since this morning in the office.`,
          category: labelled.category,
          assignment_group: labelled.group,
          resolution_notes: `Checked the ${subject} and fixed it.`,
          resolved_at_first_contact: n % 3 !== 0,
          resolved_at: resolved,
        });
      }
    }
  }
  return tickets;
}

/** Starts the service on a free loopback port with a fresh data directory, and a configuration
 * file layered over the defaults when `configToml` is given, and `env` (`TRIAGE__...` overrides)
 * over both; resolves once /readyz answers. */
async function startService(configToml, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triage-e2e-'));
  const args = ['serve', '--data-dir', dir];
  if (configToml) {
    const file = path.join(dir, 'triage.toml');
    fs.writeFileSync(file, configToml);
    args.unshift('--config', file);
  }
  const port = await freePort();
  args.push('--port', String(port));
  const service = { base: `http://127.0.0.1:${port}`, dataDir: dir, log: '' };
  service.process = spawn(BIN, args, {
    cwd: ROOT,
    env: { ...process.env, RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.process.stdout.on('data', (d) => { service.log += d; });
  service.process.stderr.on('data', (d) => { service.log += d; });
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      if ((await fetch(`${service.base}/readyz`)).ok) break;
    } catch (e) { /* not listening yet */ }
    if (Date.now() > deadline || service.process.exitCode !== null) throw new Error(`the service did not become ready:\n${service.log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  service.operatorKey = fs.readFileSync(path.join(dir, 'operator.key'), 'utf8').trim();
  return service;
}

function stopService(service) {
  if (service?.process && service.process.exitCode === null) service.process.kill('SIGTERM');
  if (service?.dataDir) fs.rmSync(service.dataDir, { recursive: true, force: true });
}

before(async () => {
  assert.ok(fs.existsSync(BIN), `no triage binary at ${BIN}; build it with \`cargo build -p triage-cli\` or set TRIAGE_BIN`);
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}; install Debian's chromium package (apt-get install chromium)`);
  server = await startService();
  base = server.base;
  keys.operator = server.operatorKey;
  for (const role of ['agent', 'admin', 'integration']) {
    keys[role] = (await call('POST', '/v1/admin/keys', keys.operator, { tenant: TENANT, role, label: `e2e ${role}` })).key;
  }
  await call('POST', '/v1/tickets/resolved', keys.operator, { tickets: resolvedTickets() });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  stopService(server);
});

async function page(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const p = await context.newPage();
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  return p;
}

async function signIn(p, key, at = base) {
  await p.goto(`${at}/console`);
  await p.getByLabel('API key').fill(key);
  await p.getByLabel('API key').press('Enter');
  await p.locator('#nav a').first().waitFor({ state: 'visible' });
  await p.locator('.view:not([hidden]) h1').waitFor();
}

async function shot(p, name, fullPage = false) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await p.mouse.move(1, 790);
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

async function kpi(p, name) {
  return p.locator(`[data-kpi="${name}"] .v`).innerText();
}

test('a wrong key is refused with a clear message and nothing is kept', async () => {
  const p = await page();
  await p.goto(`${base}/console`);
  await shot(p, 'signin');
  await p.getByLabel('API key').fill(`trg_${'0'.repeat(64)}`);
  await p.getByRole('button', { name: 'Sign in' }).click();
  const alert = p.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  assert.match(await alert.innerText(), /Sign-in failed: that key was refused/);
  assert.match(await alert.innerText(), /invalid_credentials/);
  assert.equal(await p.locator('#nav').isVisible(), false, 'no views are offered');
  assert.equal(await p.locator('#who').isVisible(), false);
  assert.equal(await p.evaluate(() => sessionStorage.getItem('triage.key')), null);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('an agent triages a ticket, sees the right article first, says it fixed it, and the stats change', async () => {
  const admin = await page();
  await signIn(admin, keys.admin);
  await admin.goto(`${base}/console#/desk`);
  await admin.locator('#desk-kpis').waitFor();
  const triagesBefore = Number(await kpi(admin, 'triages'));
  assert.equal(await kpi(admin, 'acceptance_rate'), '–', 'no feedback yet');

  const agent = await page();
  await signIn(agent, keys.agent);
  assert.equal(await agent.getByRole('link', { name: 'Models' }).count(), 0, 'agents are not offered admin views');
  assert.equal(await agent.getByRole('link', { name: 'Triage' }).count(), 1);
  assert.ok(!agent.url().includes('trg_'), 'the key never appears in the URL');
  assert.ok((await agent.evaluate(() => sessionStorage.getItem('triage.key'))).startsWith('trg_'), 'the key is kept in session storage');

  await agent.getByLabel('Title').fill('Locked out');
  await agent.getByLabel('Description').fill('I typed my password wrong a few times and now it says my account is locked');
  await agent.getByRole('button', { name: 'Triage', exact: true }).click();
  const first = agent.locator('#suggestions > li').first();
  await first.waitFor();
  assert.equal(await first.getAttribute('data-id'), 'account-locked-out');
  assert.match(await first.locator('h3').innerText(), /Account locked out after too many wrong passwords/);
  assert.ok(await first.locator('mark').count() > 0, 'the snippet highlights matched words');
  assert.ok(await first.locator('details ol li').count() >= 3, 'the steps are shown');
  assert.match(await first.locator('.fix-probability').innerText(), /^\d{1,3}% likely to fix$/, 'each fix says how likely it is');
  assert.equal(await agent.locator('#no-good-fix').count(), 0, 'a clear locked-out ticket has a good fix');
  assert.match(await agent.locator('[data-head="category"] .badge').innerText(), /^(auto|suggest|abstain)$/);
  const triageId = await agent.locator('#triage-id').innerText();
  assert.ok(agent.url().endsWith(`#/triage/${triageId}`));
  await shot(agent, 'triage');

  await first.getByRole('button', { name: 'This fixed it' }).click();
  await first.getByText('Sent: this fixed it').waitFor();

  // Opened again by id, the triage shows the feedback it got.
  await agent.goto(`${base}/console#/triage/${triageId}`);
  await agent.reload();
  await agent.getByText('Feedback so far').waitFor();
  assert.match(await agent.locator('#triage-result').innerText(), /this fixed it \(article:account-locked-out\)/);

  await admin.getByRole('button', { name: 'Show' }).click();
  await admin.waitForFunction((before) => Number(document.querySelector('[data-kpi="triages"] .v')?.textContent) === before + 1, triagesBefore);
  assert.equal(await kpi(admin, 'acceptance_rate'), '100.0%');
  assert.equal(await kpi(admin, 'feedback_rate'), `${(100 / (triagesBefore + 1)).toFixed(1)}%`);
  assert.ok(await admin.locator('#chart-volume circle').count() > 0, 'the volume chart has points');
  await shot(admin, 'desk', true);

  await admin.getByRole('link', { name: 'Knowledge base' }).click();
  const row = admin.locator('#kb-usage-table tr[data-id="account-locked-out"]');
  await row.waitFor();
  const cells = await row.locator('td').allInnerTexts();
  assert.equal(cells[2], '1', 'offered once');
  assert.equal(cells[3], '1', 'offered first');
  assert.equal(cells[4], '1', 'fixed it once');
  assert.match(cells[7], /100%/);
  await shot(admin, 'knowledge-base');

  // A ticket in words the knowledge base never uses is answered no_good_fix and shows as a gap with a draft.
  const odd = await call('POST', '/v1/triage', keys.admin, { tenant: TENANT, external_id: 'INC-GAP1', title: 'zyxwv qwertz', description: 'plugh xyzzy frobnicate' });
  assert.equal(odd.no_good_fix, true);
  await admin.getByRole('link', { name: 'KB gaps' }).click();
  const gap = admin.locator('#gaps-list > li').first();
  await gap.waitFor();
  assert.match(await gap.innerText(), /INC-GAP1/);
  await gap.getByText(/^Draft article/).click();
  assert.match(await gap.locator('pre.draft').innerText(), /draft: true/);
  await shot(admin, 'kb-gaps');

  const tablet = await page({ width: 820, height: 1180 });
  await signIn(tablet, keys.agent);
  await tablet.getByLabel('Title').fill('Printer shows offline');
  await tablet.getByRole('button', { name: 'Triage', exact: true }).click();
  await tablet.locator('#suggestions > li').first().waitFor();
  const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at tablet width (overflow ${overflow}px)`);
  await shot(tablet, 'triage-tablet');

  for (const p of [admin, agent, tablet]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('an integration key sees only triage, without feedback or stored triages', async () => {
  const p = await page();
  await signIn(p, keys.integration);
  assert.deepEqual(await p.locator('#nav a').allInnerTexts(), ['Triage']);
  assert.equal(await p.locator('#open-form').isVisible(), false);
  await p.getByLabel('Title').fill('Printer shows offline');
  await p.getByRole('button', { name: 'Triage', exact: true }).click();
  await p.locator('#suggestions > li').first().waitFor();
  assert.equal(await p.getByRole('button', { name: 'This fixed it' }).count(), 0, 'no feedback buttons');
  assert.equal(await p.locator('input.correction').count(), 0, 'no label corrections');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('API errors are shown as messages, not a blank page', async () => {
  const p = await page();
  await signIn(p, keys.agent);
  await p.getByRole('button', { name: 'Triage', exact: true }).click();
  assert.match(await p.getByRole('alert').innerText(), /Nothing to triage/);
  await p.getByLabel('Open a triage by id').fill('no-such-triage');
  await p.getByRole('button', { name: 'Open' }).click();
  await p.getByRole('alert').getByText('triage_not_found').waitFor();
  assert.match(await p.getByRole('alert').innerText(), /no triage with that id/);
  assert.ok(await p.locator('#triage-form').isVisible(), 'the page is still usable');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('an operator starts a retrain, watches it finish, promotes the new model and rolls back', async () => {
  const p = await page();
  await signIn(p, keys.operator);
  await p.getByRole('link', { name: 'Models' }).click();
  await p.locator('#live-version').waitFor();
  const before = await p.locator('#live-version').innerText();
  assert.equal(before, 'starter');

  await p.getByRole('button', { name: 'Start retrain' }).click();
  await p.locator('#job-progress').waitFor();
  await p.locator('#job-phase[data-state="succeeded"]').waitFor({ timeout: 120000 });
  const phase = await p.locator('#job-phase').innerText();
  const version = /version (\S+) is registered/.exec(phase)[1];
  const row = p.locator(`#models-table tr[data-version="${version}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /candidate/);
  assert.ok(await p.locator('svg.heatmap').count() > 0, 'the evaluation shows a confusion heat map');
  assert.ok(await p.locator('svg.heatmap rect').count() >= 9, 'a cell per pair of classes');
  await shot(p, 'models', true);

  // Shadow mode: the candidate answers beside the live model; a triage shows up in its figures.
  await row.getByRole('button', { name: 'Shadow' }).click();
  await p.locator('#shadow-table').waitFor();
  assert.match(await p.locator('#shadow h2').innerText(), new RegExp(`Shadow model: ${version.replace(/\./g, '\\.')}`));
  await call('POST', '/v1/triage', keys.operator, { title: 'printer jammed', description: 'paper stuck in tray 2' });
  await waitFor('the shadow to answer', async () => (await call('GET', '/v1/admin/models', keys.operator)).shadow?.triages >= 1);
  await p.getByRole('button', { name: 'Stop shadowing' }).click();
  await p.locator('#shadow .muted').waitFor();
  assert.equal((await call('GET', '/v1/admin/models', keys.operator)).shadow, null);

  // Promotion asks first; cancelling changes nothing.
  await row.getByRole('button', { name: 'Promote' }).click();
  await p.locator('#confirm').waitFor();
  await p.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await p.locator('#live-version').innerText(), 'starter');

  await row.getByRole('button', { name: 'Promote' }).click();
  await p.locator('#confirm-ok').click();
  await p.waitForFunction((v) => document.querySelector('#live-version')?.textContent === v, version);
  const live = await call('GET', '/v1/admin/models', keys.operator);
  assert.equal(live.live, version, 'the service serves the promoted model');

  await p.getByRole('button', { name: 'Roll back' }).click();
  await p.locator('#confirm-ok').click();
  await p.waitForFunction(() => document.querySelector('#live-version')?.textContent === 'starter');

  await p.getByRole('link', { name: 'Audit log' }).click();
  const audit = p.locator('#audit-table');
  await audit.waitFor();
  const text = await audit.innerText();
  assert.match(text, /model\.train/);
  assert.match(text, new RegExp(`model\\.promote\\s+${version.replace(/\./g, '\\.')}\\s+ok`));
  assert.match(text, /model\.rollback\s+starter\s+ok/);
  await shot(p, 'audit');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('the console is keyboard-usable: sign in, move between views and triage without a mouse', async () => {
  const p = await page();
  await p.goto(`${base}/console`);
  await p.keyboard.type(keys.agent);
  await p.keyboard.press('Enter');
  await p.locator('#nav a').first().waitFor({ state: 'visible' });
  await p.getByLabel('Title').focus();
  await p.keyboard.type('VPN will not connect from home');
  await p.keyboard.press('Tab');
  await p.keyboard.type('the vpn client says it cannot reach the gateway');
  for (let i = 0; i < 3; i++) await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'triage-submit', 'Tab reaches the Triage button');
  await p.keyboard.press('Enter');
  await p.locator('#suggestions > li').first().waitFor();
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('an e-mail-born ticket is read without its tail, and the agent can unfold the text as analysed', async () => {
  const agent = await page();
  await signIn(agent, keys.agent);
  await agent.getByLabel('Title').fill('RE: Locked out');
  await agent.getByLabel('Description').fill(
    'I typed my password wrong a few times and now it says my account is locked.\n\nKind regards\n\nJane Smith\nRevenues Officer\nNorthmoor District Council\nTel: 01632 960001\n\n'
    + 'This e-mail and any attachments are confidential and intended solely for the addressee. If you have received this e-mail in error please notify the sender.');
  await agent.getByRole('button', { name: 'Triage', exact: true }).click();
  const note = agent.locator('#cleaning');
  await note.waitFor();
  const summary = await note.locator('summary').innerText();
  assert.match(summary, /signature/);
  assert.match(summary, /disclaimer/);
  await note.locator('summary').click();
  const analysed = note.locator('.analysed-text');
  await analysed.waitFor();
  const text = await analysed.innerText();
  assert.match(text, /account is locked/, 'the problem is what was analysed');
  assert.doesNotMatch(text, /Kind regards|confidential|01632/, 'the tail is folded away');
  assert.equal(await agent.locator('#suggestions > li').first().getAttribute('data-id'), 'account-locked-out');
  assert.deepEqual(agent.errors, []);
  await agent.context().close();
});

test('connectors are for operators and admins: an empty state when none is configured, and no view for agents', async () => {
  const operator = await page();
  await signIn(operator, keys.operator);
  await operator.getByRole('link', { name: 'Connectors' }).click();
  const empty = operator.locator('#connectors-empty');
  await empty.waitFor();
  assert.match(await empty.innerText(), /No connectors configured: add \[\[connectors\]\] to the configuration/);
  assert.equal(await operator.locator('#outbox-table').count(), 0, 'no outbox without a connector');

  const admin = await page();
  await signIn(admin, keys.admin);
  assert.equal(await admin.getByRole('link', { name: 'Connectors' }).count(), 1, 'tenant admins see their connectors');

  const agent = await page();
  await signIn(agent, keys.agent);
  assert.equal(await agent.getByRole('link', { name: 'Connectors' }).count(), 0, 'agents are not offered the view');
  await agent.goto(`${base}/console#/connectors`);
  await agent.waitForFunction(() => location.hash === '#/triage');
  assert.equal(await agent.locator('#view-connectors').isVisible(), false);

  for (const p of [operator, admin, agent]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

/** A Request Tracker stand-in on loopback: one new ticket in the "Service Desk" queue; the first
 * note triage writes back is refused (with markup in the refusal), later ones are accepted. */
async function startFakeRt() {
  const updated = new Date(Date.now() - 60000).toISOString().replace(/\.\d+Z$/, 'Z');
  const user = (name) => ({ id: name, Name: name, type: 'user' });
  const ticket = {
    id: '4242', type: 'ticket', Subject: 'Locked out of my account', Status: 'new', Priority: '0',
    Queue: { id: '3', Name: 'Service Desk', type: 'queue' }, Owner: user('Nobody'), LastUpdatedBy: user('jane'),
    Created: updated, LastUpdated: updated, Resolved: '1970-01-01T00:00:00Z', CustomFields: [],
  };
  const rt = { comments: [] };
  const routes = {
    'GET /REST/2.0/tickets': () => [200, { count: 1, page: 1, per_page: 100, total: 1, items: [ticket] }],
    'GET /REST/2.0/ticket/4242/history': () => [200, { count: 1, items: [{ id: '900', Type: 'Create', Creator: user('jane'), Created: updated }] }],
    'GET /REST/2.0/transaction/900/attachments': () => [200, { count: 1, items: [{ ContentType: 'text/plain',
      Content: 'I typed my password wrong a few times and now it says my account is locked' }] }],
    'GET /REST/2.0/rt': () => [200, { Version: '5.0.3' }],
    // the description is the first transaction's text part; our notes are looked for here too
    'GET /REST/2.0/ticket/4242/attachments': () => [200, { count: 1, items: [{ TransactionId: '900', ContentType: 'text/plain',
      Content: 'I typed my password wrong a few times and now it says my account is locked' }] }],
    'POST /REST/2.0/ticket/4242/comment': (body) => {
      rt.comments.push(JSON.parse(body));
      return rt.comments.length === 1 ? [400, '<img src=x onerror="window.injected = 1">comments are switched off'] : [201, ['Comments added']];
    },
  };
  rt.server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const route = routes[`${req.method} ${new URL(req.url, 'http://rt').pathname}`];
      const [status, answer] = route ? route(body) : [404, { message: 'Not Found' }];
      res.writeHead(status, { 'Content-Type': typeof answer === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof answer === 'string' ? answer : JSON.stringify(answer));
    });
  });
  await new Promise((resolve) => rt.server.listen(0, '127.0.0.1', resolve));
  rt.url = `http://127.0.0.1:${rt.server.address().port}`;
  return rt;
}

async function waitFor(what, check, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('an operator sees each connector\'s health and last error, and retries a dead letter that then gets through', async () => {
  const rt = await startFakeRt();
  const secrets = fs.mkdtempSync(path.join(os.tmpdir(), 'triage-e2e-secrets-'));
  const tokenFile = path.join(secrets, 'rt.token');
  fs.writeFileSync(tokenFile, '1-14-e2etoken\n');
  const connector = (name, url, extra) => `[[connectors]]
name = "${name}"
kind = "rt"
base_url = "${url}"
token_file = ${JSON.stringify(tokenFile)}
tenants = { "Service Desk" = "${TENANT}" }
poll_interval_secs = 1
${extra}
`;
  // rt-offline: a closed loopback port, so every poll fails
  const service = await startService(`${connector('rt-desk', rt.url, 'user = "triage-bot"\nmax_attempts = 1')}\n${connector('rt-offline', 'http://127.0.0.1:9', '')}`);
  const p = await page();
  try {
    const status = async () => Object.fromEntries((await call('GET', '/v1/admin/connectors', service.operatorKey, undefined, service.base)).connectors.map((c) => [c.name, c]));
    await waitFor('a dead letter on rt-desk and an error on rt-offline', async () => {
      const s = await status();
      return s['rt-desk'].outbox_dead === 1 && s['rt-offline'].last_error;
    });

    await signIn(p, service.operatorKey, service.base);
    await p.getByRole('link', { name: 'Connectors' }).click();
    const desk = p.locator('#connectors-table tr[data-name="rt-desk"]');
    const offline = p.locator('#connectors-table tr[data-name="rt-offline"]');
    await desk.waitFor();
    assert.match(await desk.locator('td.health').innerText(), /dead letters: 1/);
    assert.match(await desk.innerText(), /rt · polled \(pull\)/);
    assert.equal(await offline.locator('td.health [data-state]').first().getAttribute('data-state'), 'errors');
    assert.match(await offline.locator('td.last-error').innerText(), /Connection refused/);
    assert.equal(await p.locator('#outbox-title').innerText(), 'Outbox of rt-desk', 'the first connector\'s outbox is shown');

    await p.getByLabel('Outbox state').selectOption('dead');
    const dead = p.locator('#outbox-table tr[data-state="dead"]');
    await dead.waitFor();
    const cells = await dead.locator('td').allInnerTexts();
    assert.equal(cells[1], '4242', 'the ticket');
    assert.equal(cells[2], 'note');
    assert.equal(cells[4], '1', 'tries');
    assert.match(cells[5], /HTTP 400: <img src=x onerror="window\.injected = 1">comments are switched off/, 'the refusal is shown as text');
    assert.equal(await p.locator('#outbox-table img').count(), 0, 'markup from the remote system is never rendered');
    assert.equal(await p.evaluate(() => window.injected), undefined);
    await shot(p, 'connectors', true);
    await dead.getByText('Note', { exact: true }).click();
    assert.match(await dead.locator('pre.payload').innerText(), /rt-desk:/, 'the note carries its marker');
    assert.equal(await p.locator('#outbox-body').evaluate((el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())), false, 'no stray text');

    await dead.getByRole('button', { name: /^Retry action \d+ on ticket 4242$/ }).click();
    await p.getByRole('status').getByText(/on ticket 4242 is queued again/).waitFor();
    assert.equal(await p.locator('#outbox-table tr[data-state="dead"]').count(), 0, 'no longer a dead letter');
    await waitFor('the retried note to be delivered', async () => (await status())['rt-desk'].outbox_delivered === 1);
    assert.equal(rt.comments.length, 2, 'posted again once');

    await p.getByLabel('Outbox state').selectOption('delivered');
    await p.locator('#outbox-table tr[data-state="delivered"]').waitFor();
    // the last error stays on record, but once something succeeds after it the connector is healthy
    // again (times are whole seconds, so this may take a poll)
    await waitFor('rt-desk to be healthy again', async () => {
      await p.getByRole('button', { name: 'Refresh' }).click();
      return (await desk.getAttribute('data-health')) === 'healthy';
    });
    assert.match(await desk.locator('td.last-error').innerText(), /recovered since/);
    assert.deepEqual(p.errors, []);
  } finally {
    await p.context().close();
    stopService(service);
    rt.server.close();
    fs.rmSync(secrets, { recursive: true, force: true });
  }
});

/** Near-identical tickets from two tenants, sent within a second: the surge of one fault. */
const OUTLOOK_SURGE = [
  ['northmoor', 'Outlook cannot send email, stuck in outbox', 'Outlook will not send email; every message is stuck in the outbox'],
  ['eastbrook', 'Outlook cannot send emails, stuck in the outbox', 'My emails are stuck in the Outlook outbox and will not send'],
  ['northmoor', 'Emails stuck in outbox, Outlook cannot send', 'Outlook cannot send any email, they all sit in the outbox'],
  ['eastbrook', 'Outlook: email stuck in outbox, cannot send', 'Since this morning Outlook cannot send email, stuck in outbox'],
  ['northmoor', 'Cannot send email in Outlook, stuck in outbox', 'Email stuck in the outbox, Outlook cannot send it'],
  ['eastbrook', 'Outlook email stuck in outbox', 'Outlook cannot send: the email stays stuck in the outbox'],
];

const escapeRe = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Content-Security-Policy violations are page errors too: the console must not need inline code. */
function watchCsp(p) {
  p.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) p.errors.push(m.text()); });
  return p;
}

test('a surge opens a major incident: agents see a banner, an operator confirms it with a message, and a new similar ticket is answered with it', async () => {
  const service = await startService(null, { TRIAGE__INCIDENTS__MIN_HISTORY: '0' });
  const at = service.base;
  const op = service.operatorKey;
  const pages = [];
  const open = async () => { const p = watchCsp(await page()); pages.push(p); return p; };
  try {
    const agentKey = (await call('POST', '/v1/admin/keys', op, { tenant: TENANT, role: 'agent', label: 'e2e incident agent' }, at)).key;
    const otherKey = (await call('POST', '/v1/admin/keys', op, { tenant: 'southvale', role: 'agent', label: 'e2e untouched agent' }, at)).key;
    const agent = await open();
    await signIn(agent, agentKey, at);
    assert.equal(await agent.getByRole('link', { name: 'Incidents', exact: true }).count(), 1, 'agents may read incidents');
    assert.equal(await agent.locator('#incident-banner').isVisible(), false, 'no banner while nothing is open');

    for (const [tenant, title, description] of OUTLOOK_SURGE) await call('POST', '/v1/triage', op, { tenant, title, description }, at);
    // detection runs off the request path: the incident opens, then takes the rest of the surge
    const opened = await waitFor('the detector to open an incident with every ticket of the surge', async () => {
      const [first] = (await call('GET', '/v1/incidents', op, undefined, at)).incidents;
      return first?.count === OUTLOOK_SURGE.length && first;
    }, 20000);
    assert.equal(opened.status, 'suspected');
    assert.deepEqual([...opened.tenants].sort(), ['eastbrook', 'northmoor']);

    // Banner: refreshed when the agent changes view; it links to the detail. (Its title is the
    // incident's most representative ticket among those the key may see.)
    const agentTitle = (await call('GET', `/v1/incidents/${opened.id}`, agentKey, undefined, at)).title;
    await agent.getByRole('link', { name: 'Knowledge base' }).click();
    const banner = agent.locator(`#incident-banner li[data-id="${opened.id}"]`);
    await banner.waitFor();
    assert.match(await banner.innerText(), new RegExp(`^suspected\\s+Suspected major incident: ${escapeRe(agentTitle)}\\.$`));
    assert.equal(await banner.locator('a').getAttribute('href'), `#/incidents/${opened.id}`);

    // An agent of a tenant the incident does not touch sees no banner and no incident.
    const other = await open();
    await signIn(other, otherKey, at);
    await other.getByRole('link', { name: 'Incidents', exact: true }).click();
    await other.locator('#incidents-empty').waitFor();
    assert.equal(await other.locator('#incident-banner').isVisible(), false, 'not this tenant\'s incident');

    // The agent's detail: its own tenant's tickets only, and no management buttons.
    await banner.locator('a').click();
    await agent.locator('#incident-title').waitFor();
    const agentMembers = await agent.locator('#incident-members tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.tenant));
    assert.ok(agentMembers.length > 0 && agentMembers.every((t) => t === TENANT), `only ${TENANT}'s tickets (${agentMembers})`);
    assert.equal(await agent.locator('#incident-actions').count(), 0, 'agents cannot confirm or dismiss');

    // The operator's list: status, title, terms, tenants, count, first and last seen.
    const operator = await open();
    await signIn(operator, op, at);
    await operator.locator(`#incident-banner li[data-id="${opened.id}"]`).waitFor();
    await operator.getByRole('link', { name: 'Incidents', exact: true }).click();
    const row = operator.locator(`#incidents-table tr[data-id="${opened.id}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[0], 'suspected');
    assert.match(cells[1], new RegExp(opened.id));
    assert.match(cells[2], /outbox|outlook/i, 'the top terms say what it is about');
    assert.match(cells[3], /northmoor/);
    assert.match(cells[3], /eastbrook/);
    assert.equal(cells[4], String(OUTLOOK_SURGE.length));
    assert.match(cells[5], /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    assert.match(cells[6], /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await Promise.all([operator.waitForResponse((r) => r.url().endsWith('/v1/incidents?status=all')), operator.locator('#incidents-status').selectOption('all')]);
    await row.waitFor();
    assert.equal(await row.count(), 1, 'listed under all too');
    await shot(operator, 'incidents');

    // Detail: chart, members, expectation.
    await row.getByRole('link', { name: opened.title }).click();
    await operator.locator('#incident-title').waitFor();
    assert.ok(operator.url().endsWith(`#/incidents/${opened.id}`));
    const detail = await call('GET', `/v1/incidents/${opened.id}`, op, undefined, at);
    const chart = operator.getByRole('img', { name: /^Tickets per 10 minutes in / });
    assert.equal(await chart.count(), 1, 'the chart has an accessible name');
    const bars = await operator.locator('#incident-chart rect.bar').evaluateAll((rs) => rs.map((r) => Number(r.dataset.value)));
    assert.deepEqual(bars, detail.arrivals_per_10_min, 'a bar per ten minutes');
    assert.ok(bars.reduce((a, b) => a + b, 0) > 0);
    assert.match(await operator.locator('#incident-chart rect.bar title').first().textContent(), /^\d\d:\d\d–\d\d:\d\d UTC: \d+ tickets?$/);
    const axis = await operator.locator('#incident-chart text').allTextContents();
    assert.ok(axis.includes('tickets') && axis.some((t) => /^\d\d:\d\d$/.test(t)), `axis text (${axis})`);
    assert.equal(await operator.locator('#incident-members tbody tr').count(), detail.members.length);
    assert.deepEqual([...new Set(await operator.locator('#incident-members tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.tenant)))].sort(), ['eastbrook', 'northmoor']);
    assert.equal(await operator.locator('[data-kpi="expected"] .v').innerText(), detail.expected_at_open.toFixed(2));

    // Confirm with a message.
    const message = 'Outlook cannot send mail for anyone: IT are on it. Ask callers not to resend; mail will go when it is fixed.';
    await operator.getByLabel('Message for agents').fill(message);
    await operator.getByRole('button', { name: 'Confirm', exact: true }).click();
    await operator.locator('#incident-title[data-status="confirmed"]').waitFor();
    assert.equal(await operator.locator('#incident-message').innerText(), message);
    await operator.getByRole('status').getByText(/confirmed: agents see it/).waitFor();
    const confirmed = await call('GET', `/v1/incidents/${opened.id}`, op, undefined, at);
    assert.equal(confirmed.status, 'confirmed');
    assert.equal(confirmed.message, message);
    await shot(operator, 'incident', true);

    // The agent's banner says what to tell callers; a new similar ticket is answered with the incident first.
    await agent.getByRole('link', { name: 'Triage' }).click();
    const confirmedBanner = agent.locator(`#incident-banner li[data-status="confirmed"]`);
    await confirmedBanner.waitFor();
    assert.match(await confirmedBanner.innerText(), new RegExp(`^confirmed\\s+Known major incident: ${escapeRe(agentTitle)}\\. Tell callers: ${escapeRe(message)}$`));
    await agent.getByLabel('Title').fill('Outlook cannot send email, it is stuck in the outbox');
    await agent.getByLabel('Description').fill('Every email I send stays stuck in the Outlook outbox');
    await agent.getByRole('button', { name: 'Triage', exact: true }).click();
    const notice = agent.locator('#triage-incident');
    await notice.waitFor();
    assert.equal(await notice.getAttribute('data-id'), opened.id);
    assert.match(await notice.innerText(), /^Part of a known major incident/);
    assert.match(await notice.innerText(), /confirmed/);
    assert.match(await notice.innerText(), new RegExp(`Tell callers: ${escapeRe(message)}`));
    const first = agent.locator('#suggestions > li').first();
    assert.equal(await first.getAttribute('data-kind'), 'incident');
    assert.equal(await first.getAttribute('data-id'), opened.id);
    assert.match(await first.innerText(), new RegExp(escapeRe(message)));
    assert.equal(await first.getByRole('button', { name: 'This fixed it' }).count(), 0, 'an incident is not a fix to rate');
    await shot(agent, 'triage-incident', true);

    // Problem details are shown as in the other views: an unknown incident, and a stale page.
    const stale = await open();
    await signIn(stale, op, at);
    await stale.goto(`${at}/console#/incidents/${opened.id}`);
    await stale.locator('#incident-title[data-status="confirmed"]').waitFor();
    await operator.getByLabel('Reason for dismissing').fill('a test surge, not a fault');
    await operator.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await operator.locator('#confirm-ok').click();
    await operator.locator('#incident-title[data-status="dismissed"]').waitFor();
    await stale.getByRole('button', { name: 'Resolve', exact: true }).click();
    await stale.locator('#confirm-ok').click();
    await stale.getByRole('alert').getByText('incident_transition').waitFor();
    assert.ok(await stale.locator('#incident-title').isVisible(), 'the page is still usable');
    await stale.goto(`${at}/console#/incidents/inc-000000000000`);
    await stale.getByRole('alert').getByText('incident_not_found').waitFor();

    // Dismissed: the banner goes with the next refresh.
    await agent.getByRole('link', { name: 'Knowledge base' }).click();
    await agent.locator('#incident-banner').waitFor({ state: 'hidden' });

    for (const p of pages) assert.deepEqual(p.errors, []);
  } finally {
    for (const p of pages) await p.context().close();
    stopService(service);
  }
});
