// End-to-end: the real Herald binary on a fresh SQLite file, the built app
// it serves, and Debian's Chromium driven by playwright-core. Nothing is
// mocked: the test sets things up through the GraphQL API as a script
// would, and watches what a person sees in the browser.
//
// HERALD_BIN (default ../target/debug/herald) and CHROMIUM (default
// /usr/bin/chromium) can be overridden.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, '..');
const repo = resolve(frontend, '..');
const BIN = process.env.HERALD_BIN ?? join(repo, 'target/debug/herald');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const DIST = join(frontend, 'dist');
const DOCS = join(repo, 'docs');
// The README's screenshots are rewritten only when asked
// (HERALD_SCREENSHOTS=1 npm run e2e), so a plain test run leaves the tracked
// files as they are; the page is still rendered to a buffer, which must not
// be empty.
const WRITE_SCREENSHOTS = process.env.HERALD_SCREENSHOTS === '1';
async function screenshot(page, name) {
  const image = await page.screenshot({ fullPage: true, ...(WRITE_SCREENSHOTS ? { path: join(DOCS, name) } : {}) });
  assert.ok(image.length > 1000, `screenshot ${name} is not empty`);
}
const ADMIN_PASSWORD = 'e2e-admin-password';
const PASSWORD = 'e2e-user-password';
const JWT_SECRET = 'e2e-secret-e2e-secret-e2e-secret-e2e';
const SLACK_SECRET = 'T000SLACK/B000SECRET/slacksecretpath';
const TEAMS_SECRET = 'teams-secret-path-0123456789';
const GATE_FAILED = 'Security gate has changed to Failed';
const GATE_PASSED = 'Security gate has changed to Passed';
const TIMEOUT = 15_000;

let server;
let serverLog = '';
let base;
let dir;
let hooks;
let hooksPort;
let browser;
const received = [];
/** Every console error and page error, per page label. */
const problems = [];
/** Every console message, to check no secret is logged. */
const consoleText = [];

function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function gql(token, query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function ok(token, query, variables) {
  const body = await gql(token, query, variables);
  assert.equal(body.errors, undefined, `GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function login(username, password) {
  const data = await ok(null, 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }', { u: username, p: password });
  return data.login.token;
}

async function createUser(adminToken, username) {
  const data = await ok(adminToken, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', {
    i: { username, password: PASSWORD, email: `${username}@example.com`, fullName: username[0].toUpperCase() + username.slice(1) },
  });
  return data.createUser.id;
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A session token like Herald's (HS256, issuer herald). */
function jwt(secret, claims) {
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const body = b64url({ iss: 'herald', ...claims });
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

async function waitFor(what, check, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newPage(label, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  watch(page, label);
  return page;
}

function watch(page, label) {
  page.on('console', (msg) => {
    consoleText.push(msg.text());
    if (msg.type() === 'error') problems.push(`${label}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.message}`));
  page.on('dialog', (dialog) => dialog.accept());
}

async function uiLogin(page, username, password) {
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login$/);
  // Keyboard only: the username field, Tab to the password, Enter submits.
  await page.getByLabel('Username').focus();
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Notifications' }).waitFor({ timeout: TIMEOUT });
}

const rows = (page) => page.getByTestId('inbox-row');
const badge = (page) => page.getByTestId('unviewed-badge');

before(async () => {
  assert.ok(existsSync(BIN), `${BIN} is missing: build it with \`cargo build\``);
  assert.ok(existsSync(join(DIST, 'index.html')), `${DIST} is missing: run \`npm run build\``);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);

  // Webhook receivers: Slack accepts, Teams answers 500 (so it is retried).
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url, body });
      if (req.url.startsWith('/slack/')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('teams is down');
      }
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  hooksPort = hooks.address().port;

  dir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${join(dir, 'herald.db')}?mode=rwc`,
      HERALD_LISTEN: `127.0.0.1:${port}`,
      HERALD_UI_DIR: DIST,
      HERALD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      HERALD_JWT_SECRET: JWT_SECRET,
      HERALD_ALLOW_PRIVATE_TARGETS: 'true',
      HERALD_RETRY_SCHEDULE: '30s,30s',
      HERALD_ARGON2_MEMORY_KIB: '64',
      // For an EXCEPTION notification on demand (Mutation.injectFault).
      HERALD_FAULT_INJECTION: 'true',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  await waitFor('the server to be ready', async () => {
    if (server.exitCode !== null) throw new Error(`herald exited: ${serverLog}`);
    try {
      return (await fetch(`${base}/readyz`)).ok;
    } catch {
      return false;
    }
  }, 30_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  hooks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Herald in a browser', () => {
  let admin;
  let aliceId;
  let productId;
  let failedId;

  before(async () => {
    admin = await login('admin', ADMIN_PASSWORD);
    aliceId = await createUser(admin, 'alice');
    await createUser(admin, 'bob');
    await createUser(admin, 'mallory');
    const data = await ok(admin, 'mutation($i: ProductInput!) { createProduct(input: $i) { id } }', {
      i: {
        name: 'Payments',
        securityGateActive: true,
        thresholds: { critical: 0, high: 0 },
        notificationSlackWebhook: `http://127.0.0.1:${hooksPort}/slack/${SLACK_SECRET}`,
        notificationMsTeamsWebhook: `http://127.0.0.1:${hooksPort}/teams/${TEAMS_SECRET}`,
      },
    });
    productId = data.createProduct.id;
    await ok(admin, 'mutation($p: ID!, $u: ID!) { setProductMember(productId: $p, userId: $u, role: OWNER) { role } }', { p: productId, u: aliceId });
  });

  test('the server answers client routes with the app and keeps its own paths', async () => {
    const page = await fetch(`${base}/products/${productId}`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.match(await page.text(), /<div id="root">/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  test('a gate failure appears live for a member, never for a non-member; opening, marking and deleting work', async () => {
    const alice = await newPage('alice');
    const mallory = await newPage('mallory');
    await uiLogin(alice, 'alice', PASSWORD);
    await uiLogin(mallory, 'mallory', PASSWORD);

    // The session survives a reload.
    await alice.reload();
    await alice.getByRole('heading', { name: 'Notifications' }).waitFor();
    assert.equal(await alice.title(), 'Herald');
    assert.equal(await rows(alice).count(), 0);
    await alice.getByText('No notifications left to view.').waitFor();

    // A CI pipeline imports a scan that fails the gate.
    const imported = await ok(admin, 'mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: "trivy", observations: $o) { securityGate created } }', {
      p: productId,
      o: [
        { title: 'CVE-2026-0001 in openssl', severity: 'CRITICAL' },
        { title: 'CVE-2026-0002 in zlib', severity: 'HIGH' },
        { title: 'Outdated base image', severity: 'LOW' },
      ],
    });
    assert.equal(imported.importObservations.securityGate, 'FAILED');

    // It appears at the top without a reload; the badge and the title rise.
    const row = rows(alice).filter({ hasText: GATE_FAILED });
    await row.waitFor({ timeout: TIMEOUT });
    await assert.doesNotReject(badge(alice).filter({ hasText: '1' }).waitFor({ timeout: TIMEOUT }));
    await waitFor('the title to show the count', async () => (await alice.title()) === '(1) Herald');
    assert.match(await row.textContent(), /New/);
    assert.match(await row.textContent(), /Payments/);

    const list = await ok(admin, '{ notifications(first: 5) { edges { node { id name } } } }');
    failedId = list.notifications.edges.find((e) => e.node.name === GATE_FAILED).node.id;

    // Wait until the worker has tried both webhooks, for a telling page.
    await waitFor('both webhooks to be called', async () => received.some((r) => r.url.startsWith('/slack/')) && received.some((r) => r.url.startsWith('/teams/')));

    // Opening it in a second tab marks it viewed; the first tab follows.
    const tab = await alice.context().newPage();
    watch(tab, 'alice tab 2');
    await tab.goto(`${base}/`);
    await tab.getByRole('link', { name: GATE_FAILED }).click();
    await tab.waitForURL(new RegExp(`/notifications/${failedId}$`));
    await tab.getByRole('heading', { name: GATE_FAILED }).waitFor();
    const deliveries = tab.getByTestId('delivery-row');
    await waitFor('Slack to be sent and Teams to have failed once', async () => {
      await tab.reload();
      await tab.getByRole('heading', { name: 'Deliveries' }).waitFor();
      const text = (await deliveries.allTextContents()).join('\n');
      return /Slack.*Sent/.test(text) && /Microsoft Teams.*Retrying/.test(text) ? text : false;
    });
    const deliveryText = (await deliveries.allTextContents()).join('\n');
    assert.equal(await deliveries.count(), 2);
    // Webhook targets are masked, even for an owner.
    assert.match(deliveryText, new RegExp(`http://127\\.0\\.0\\.1:${hooksPort}/…`));
    assert.ok(!deliveryText.includes(SLACK_SECRET) && !deliveryText.includes(TEAMS_SECRET), 'webhook paths are masked');
    assert.match(
      deliveryText,
      /the receiver answered HTTP 500 Internal Server Error: teams is down/,
      'the last error names the status and shows the answer',
    );
    assert.equal(await tab.getByRole('button', { name: 'Redeliver' }).count(), 2, 'an owner may redeliver');
    await screenshot(tab, 'screenshot-notification.png');

    await waitFor('the badge to go in the first tab', async () => (await badge(alice).count()) === 0);
    await waitFor('the title to drop the count', async () => (await alice.title()) === 'Herald');
    // "Unviewed only" (the default) no longer lists it.
    await waitFor('the viewed row to leave the unviewed list', async () => {
      await alice.reload();
      await alice.getByRole('heading', { name: 'Notifications' }).waitFor();
      return (await rows(alice).count()) === 0;
    });
    await tab.close();

    // The filters live in the URL.
    await alice.getByLabel('Unviewed only').uncheck();
    await alice.waitForURL(/\?unviewed=0$/);
    await alice.getByLabel('Type').selectOption('SECURITY_GATE');
    await alice.waitForURL(/type=SECURITY_GATE/);
    await rows(alice).filter({ hasText: GATE_FAILED }).filter({ hasText: 'Viewed' }).waitFor();

    // The gate passes again: a second notification arrives live.
    const passed = await ok(admin, 'mutation($p: ID!) { importObservations(productId: $p, scanner: "trivy", observations: []) { securityGate } }', { p: productId });
    assert.equal(passed.importObservations.securityGate, 'PASSED');
    const passedRow = rows(alice).filter({ hasText: GATE_PASSED });
    await passedRow.waitFor({ timeout: TIMEOUT });
    await badge(alice).filter({ hasText: '1' }).waitFor({ timeout: TIMEOUT });
    await screenshot(alice, 'screenshot-inbox.png');

    // Select and mark viewed, with the keyboard.
    await alice.getByLabel(`Select ${GATE_PASSED}`).focus();
    await alice.keyboard.press('Space');
    assert.ok(await alice.getByLabel(`Select ${GATE_PASSED}`).isChecked());
    await alice.getByRole('button', { name: 'Mark viewed' }).focus();
    await alice.keyboard.press('Enter');
    await waitFor('the badge to go', async () => (await badge(alice).count()) === 0);
    await passedRow.filter({ hasText: 'Viewed' }).waitFor();

    // Delete the first one as the owner; it is gone for everybody.
    await alice.getByLabel(`Select ${GATE_FAILED}`).check();
    await alice.getByRole('button', { name: 'Delete' }).click();
    await waitFor('the deleted row to go', async () => (await rows(alice).filter({ hasText: GATE_FAILED }).count()) === 0);
    const gone = await ok(admin, 'query($id: ID!) { notification(id: $id) { id } }', { id: failedId });
    assert.equal(gone.notification, null);

    // A deletion elsewhere disappears live.
    const remaining = await ok(admin, '{ notifications(first: 5) { edges { node { id name } } } }');
    const passedId = remaining.notifications.edges.find((e) => e.node.name === GATE_PASSED).node.id;
    await ok(admin, 'mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }', { ids: [passedId] });
    await waitFor('the row deleted elsewhere to go', async () => (await rows(alice).count()) === 0);

    // The non-member saw none of it, then or now.
    assert.equal(await rows(mallory).count(), 0);
    assert.equal(await badge(mallory).count(), 0);
    assert.equal(await mallory.title(), 'Herald');
    await mallory.goto(`${base}/notifications/${failedId}`);
    await mallory.getByRole('heading', { name: 'Notification not found' }).waitFor();
    await mallory.goto(`${base}/?unviewed=0`);
    await mallory.getByText('No notifications.').waitFor();
    assert.equal(await rows(mallory).count(), 0);

    await alice.context().close();
    await mallory.context().close();
  });

  test('a member sees field errors beside the field and manages members', async () => {
    const alice = await newPage('alice product');
    await uiLogin(alice, 'alice', PASSWORD);
    await alice.getByRole('link', { name: 'Products' }).click();
    const productRow = alice.getByRole('row', { name: /Payments/ });
    await productRow.waitFor();
    assert.match(await productRow.textContent(), /Passed/, 'the gate status is written, not only coloured');
    await alice.getByRole('link', { name: 'Payments' }).click();
    await alice.getByRole('heading', { name: 'Payments' }).waitFor();
    await alice.getByRole('heading', { name: 'Gate history' }).waitFor();
    await alice.getByText('CVE-2026-0001 in openssl').waitFor();

    // A bad address: the server's BAD_USER_INPUT lands beside the field.
    await alice.getByLabel('Email recipients').fill('security@example.com, not-an-address');
    await alice.getByRole('button', { name: 'Save settings' }).click();
    const fieldError = alice.locator('#email-to-error');
    await fieldError.waitFor({ timeout: TIMEOUT });
    assert.ok((await fieldError.textContent()).length > 0);
    assert.equal(await alice.getByLabel('Email recipients').getAttribute('aria-invalid'), 'true');
    // A threshold out of range, reported as thresholds.critical.
    await alice.getByLabel('Email recipients').fill('security@example.com');
    await alice.getByLabel('Security gate', { exact: true }).selectOption('on');
    await alice.getByLabel('Critical').fill('1000000');
    await alice.getByRole('button', { name: 'Save settings' }).click();
    await alice.locator('#product-threshold-critical-error').waitFor({ timeout: TIMEOUT });
    assert.equal(await fieldError.count(), 0);
    await alice.getByLabel('Critical').fill('2');
    await alice.getByRole('button', { name: 'Save settings' }).click();
    await alice.getByText('Saved.').waitFor();
    const saved = await ok(admin, 'query($id: ID!) { product(id: $id) { notificationEmailTo thresholds { critical } } }', { id: productId });
    assert.deepEqual(saved.product.notificationEmailTo, ['security@example.com']);
    assert.equal(saved.product.thresholds.critical, 2);

    // Members: add bob by username (alice is no administrator), change, remove.
    await alice.getByLabel('User', { exact: true }).fill('bob');
    await alice.getByLabel('Role', { exact: true }).selectOption('READER');
    await alice.getByRole('button', { name: 'Add member' }).click();
    await alice.getByLabel('Role of bob').waitFor();
    await alice.getByLabel('Role of bob').selectOption('WRITER');
    await alice.getByText('Role changed.').waitFor();
    let members = await ok(admin, 'query($id: ID!) { product(id: $id) { members { role user { username } } } }', { id: productId });
    assert.ok(members.product.members.some((m) => m.user.username === 'bob' && m.role === 'WRITER'));
    await alice.getByRole('row').filter({ has: alice.getByLabel('Role of bob') }).getByRole('button', { name: 'Remove' }).click();
    await waitFor('bob to go', async () => (await alice.getByLabel('Role of bob').count()) === 0);
    members = await ok(admin, 'query($id: ID!) { product(id: $id) { members { user { username } } } }', { id: productId });
    assert.ok(!members.product.members.some((m) => m.user.username === 'bob'));

    // A phone screen: nothing wider than the viewport.
    await alice.setViewportSize({ width: 390, height: 844 });
    // Three criticals are over the threshold of 2 set above: a new notification.
    const failed = await ok(admin, 'mutation($p: ID!, $o: [ImportedObservation!]!) { importObservations(productId: $p, scanner: "trivy", observations: $o) { securityGate } }', {
      p: productId,
      o: ['a', 'b', 'c'].map((x) => ({ title: `CVE-2026-100${x}`, severity: 'CRITICAL' })),
    });
    assert.equal(failed.importObservations.securityGate, 'FAILED');
    const gateNotification = (await ok(admin, '{ notifications(first: 1) { edges { node { id } } } }')).notifications.edges[0].node.id;
    for (const path of ['/', '/?unviewed=0', '/products', `/products/${productId}`, `/notifications/${gateNotification}`]) {
      await alice.goto(`${base}${path}`);
      await alice.getByRole('navigation', { name: 'Main' }).waitFor();
      await alice.waitForLoadState('networkidle');
      const width = await alice.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${path} is ${width}px wide at 390px`);
    }
    await alice.context().close();
  });

  test('an administrator edits settings and sends a test notification', async () => {
    const page = await newPage('admin');
    await uiLogin(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('cell', { name: 'mallory', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Product groups' }).click();
    await page.getByLabel('Name').fill('Platform');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Platform' }).waitFor();

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByLabel('Email from').fill('herald@example.com');
    await page.getByLabel('Exception email recipients').fill('ops@example.com, soc@example.com');
    await page.getByLabel('Rate-limit window (seconds)').fill('600');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor();
    const settings = await ok(admin, '{ settings { emailFrom exceptionEmailTo exceptionRateLimitSeconds } }');
    assert.deepEqual(settings.settings, { emailFrom: 'herald@example.com', exceptionEmailTo: ['ops@example.com', 'soc@example.com'], exceptionRateLimitSeconds: 600 });

    // An unexpected error: administrators get it live, with message and trace.
    await page.getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    const fault = await gql(admin, 'mutation { injectFault(kind: REQUEST, message: "disk on fire") }');
    assert.equal(fault.errors[0].extensions.code, 'INTERNAL_SERVER_ERROR');
    const exceptionRow = rows(page).filter({ hasText: 'Exception' }).first();
    await exceptionRow.waitFor({ timeout: TIMEOUT });
    await exceptionRow.getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Message' }).waitFor();
    await page.getByRole('heading', { name: 'Trace' }).waitFor();
    assert.match(await page.locator('pre.block').first().textContent(), /disk on fire/);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();

    const slack = page.getByRole('form', { name: 'Test Slack' });
    await slack.getByLabel('Webhook URL').fill(`http://127.0.0.1:${hooksPort}/slack/${SLACK_SECRET}`);
    await slack.getByRole('button', { name: 'Send test notification' }).click();
    const result = page.getByTestId('test-slack-result');
    await result.filter({ hasText: 'Sent' }).waitFor({ timeout: TIMEOUT });
    assert.ok(!(await result.textContent()).includes(SLACK_SECRET), 'the result masks the webhook');
    assert.ok(received.filter((r) => r.url === `/slack/${SLACK_SECRET}`).length >= 2, 'the test message reached the receiver');
    await screenshot(page, 'screenshot-settings.png');
    await page.context().close();
  });

  test('an expired or refused session goes back to the login page with a message', async () => {
    const page = await newPage('expiry');
    await uiLogin(page, 'alice', PASSWORD);
    // A token that ran out an hour ago.
    const now = Math.floor(Date.now() / 1000);
    const expired = jwt(JWT_SECRET, { sub: aliceId, iat: now - 7200, exp: now - 3600 });
    await page.evaluate((token) => {
      const session = JSON.parse(localStorage.getItem('herald.session'));
      localStorage.setItem('herald.session', JSON.stringify({ ...session, token }));
    }, expired);
    await page.goto(`${base}/products`);
    await page.waitForURL(/\/login$/);
    await page.getByText('Your session has expired. Please log in again.').waitFor();

    // A token the server refuses (here: another key) has the same effect.
    await uiLogin(page, 'alice', PASSWORD);
    const refused = jwt('another-secret-another-secret-another', { sub: aliceId, iat: now, exp: now + 3600 });
    await page.evaluate((token) => {
      const session = JSON.parse(localStorage.getItem('herald.session'));
      localStorage.setItem('herald.session', JSON.stringify({ ...session, token }));
    }, refused);
    await page.reload();
    await page.waitForURL(/\/login$/, { timeout: TIMEOUT });
    await page.getByText('Your session has expired. Please log in again.').waitFor();

    // Logging out also ends the session.
    await uiLogin(page, 'alice', PASSWORD);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.reload();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.context().close();
  });

  test('no page logged an error or a secret to the console', () => {
    assert.deepEqual(problems, []);
    const secrets = [SLACK_SECRET, TEAMS_SECRET, 'eyJ'];
    for (const text of consoleText) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `console shows a secret: ${text}`);
    }
  });
});
