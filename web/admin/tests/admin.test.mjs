// Browser tests of the back-office page against the whole local cloud. Operators sign
// in on the page with the e-mail and password the local cloud printed (its Cognito
// emulator, the template's pool and groups); every call then carries their ID token,
// checked by the local API Gateway's JWT authorizer, and the API checks their group.
// A sales operator finds a cheque order, records the cheque and reads the trace,
// moves orders along the allowed transitions (docs/spec.md) and cancels one; the shop administrator
// edits a catalog item; each role sees only what it may do; a wrong password gets
// nothing; an expired ID token is refreshed; signing out forgets the session. Flagged
// payments are listed under Payments to review and on their order: a sales operator
// delivers a late cheque, refunds a duplicate; an accountant only reads them. The list
// is screenshot to docs/screenshots/15-admin-payments-to-review.png.
//
// Run: node --test web/admin/tests/

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startCloud, launchBrowser, newPage, shot, api } from '../../tests/harness.mjs';

const TRACE_LINE = /^-- \d{4}-\d{1,2}-\d{1,2} \d{2}:\d{2}:\d{2} \d{3} -- \[[A-Z0-9]{16}\] [^:]+ : .+$/;

let cloud;
let browser;

before(async () => {
  cloud = await startCloud();
  browser = await launchBrowser();
}, { timeout: 360_000 });

after(async () => {
  await browser?.close();
  await cloud?.stop();
});

// idp calls the local user pools API from Node (the emulator takes admin calls unsigned).
async function idp(op, body) {
  const res = await fetch(cloud.cognito.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${op}` },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  assert.ok(res.ok, `${op}: ${JSON.stringify(data)}`);
  return data;
}

// totp is RFC 6238's code (SHA-1, 6 digits, 30 s) for a base32 secret, as an
// authenticator app computes it.
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// idToken signs in to the local user pool from Node, as the page does, and returns
// the operator's ID token.
const tokens = {};
async function idToken(group) {
  if (tokens[group]) return tokens[group];
  const op = cloud.cognito.operators[group];
  const res = await fetch(cloud.cognito.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: cloud.cognito.clientId, AuthParameters: { USERNAME: op.email, PASSWORD: op.password } }),
  });
  const data = await res.json();
  assert.ok(data.AuthenticationResult?.IdToken, `sign in as ${group}: ${JSON.stringify(data)}`);
  tokens[group] = data.AuthenticationResult.IdToken;
  return tokens[group];
}

// admin calls the back office from Node as the shop administrator (or group).
async function admin(method, path, body, accept = 'application/json', group = 'shop-admin') {
  const headers = { Accept: accept, Authorization: `Bearer ${await idToken(group)}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(cloud.apiURL + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const raw = await res.text();
  return { status: res.status, raw, json: accept === 'application/json' && raw ? JSON.parse(raw) : null };
}

// signIn opens the page signed in as the local operator of group.
async function signIn(group, hash = '#/orders') {
  const { page, context, errors } = await newPage(browser);
  const op = cloud.cognito.operators[group];
  await page.goto(`${cloud.webURL}/admin/#/signin`);
  const form = page.getByTestId('signin');
  await form.locator('input[name=email]').fill(op.email);
  await form.locator('input[name=password]').fill(op.password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#notice').filter({ hasText: `Signed in as ${op.email}` }).waitFor();
  await page.locator('#who', { hasText: group }).waitFor();
  if (hash !== '#/orders') await page.goto(`${cloud.webURL}/admin/${hash}`);
  return { page, context, errors, op };
}

// placeChequeOrder buys GO-101 (209.95 EUR) by cheque and waits for the workflow to
// wait for the cheque.
async function placeChequeOrder() {
  const cart = await api(cloud.apiURL, 'POST', '/carts');
  assert.equal(cart.status, 201, cart.text);
  const { transactionId: txid, cartToken: token } = cart.json;
  const must = async (status, method, path, body) => {
    const r = await api(cloud.apiURL, method, path.replace('{txid}', txid), body, token);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    return r;
  };
  await must(200, 'PUT', '/carts/{txid}/lines/GO-101', { quantity: 1 });
  await must(200, 'PUT', '/carts/{txid}/customer', { email: 'grace.hopper@example.com', lastName: 'Hopper', firstName: 'Grace', address: '1 Compiler Way', zip: '75005', city: 'Paris', country: 'FR', lang: 'en' });
  await must(201, 'POST', '/carts/{txid}/order', { acceptTerms: true, paymode: 'check' });
  await waitStatus(txid, 'PENDING');
  return txid;
}

async function waitStatus(txid, want, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await admin('GET', `/admin/orders/${txid}`);
    if (last.status === 200 && last.json.order.status === want) return last.json;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`order ${txid} never reached ${want}: ${last?.status} ${last?.raw?.slice(0, 300)}`);
}

const notice = (page) => page.locator('#notice');

// latePaidOrder places a cheque order, has an operator cancel it (the buyer gave up),
// then has the cheque arrive all the same: the payment is stored on the cancelled order
// and flagged "late" for an operator (as e2e/accounting_test.go's latePaidOrder).
async function latePaidOrder(reference) {
  const txid = await placeChequeOrder();
  assert.equal((await admin('POST', `/admin/orders/${txid}/cancel`, {})).status, 200);
  await waitStatus(txid, 'CANCELLED');
  const r = await admin('POST', `/admin/orders/${txid}/payment-received`, { mode: 'check', amount: 20995, reference });
  assert.equal(r.status, 202, r.raw);
  assert.equal(r.json.flag.reason, 'late');
  return txid;
}

// flagRow is the row of the payments-to-review table for an order's flag.
const flagRow = (page, txid) => page.locator(`tr[data-testid=flag][data-txid="${txid}"]`);

describe('back office', () => {
  test('the API lets the page send its token (CORS allows authorization)', async () => {
    const res = await fetch(`${cloud.apiURL}/admin/orders`, {
      method: 'OPTIONS',
      headers: { Origin: cloud.webURL, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), cloud.webURL,
      'the HttpApi CorsConfiguration (template.yaml) must allow the authorization header the page sends its ID token in');
  });

  test('no page asks for an AWS key', async () => {
    const { page } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/`);
    await page.getByTestId('signin').waitFor();
    const text = (await page.locator('body').textContent()).toLowerCase();
    for (const word of ['access key', 'secret', 'region', 'session token']) assert.ok(!text.includes(word), `the sign-in page mentions "${word}"`);
    assert.deepEqual(await page.getByTestId('signin').locator('input').evaluateAll((els) => els.map((e) => e.name)), ['email', 'password']);
  });

  test('a sales operator records a cheque and reads the trace', { timeout: 90_000 }, async () => {
    const txid = await placeChequeOrder();
    const { page, errors, op } = await signIn('sales', '#/orders?status=PENDING');
    await page.locator(`a[href="#/order/${txid}"]`).click();
    await page.locator('main h1', { hasText: txid }).waitFor();
    assert.match(await page.getByTestId('total').textContent(), /^209\.95 EUR/);

    const form = page.getByTestId('record-payment');
    assert.equal(await form.locator('input[name=amount]').inputValue(), '209.95');
    await form.locator('input[name=reference]').fill('CHQ-WEB-1');
    await form.getByRole('button', { name: 'Record' }).click();
    await notice(page).filter({ hasText: 'Payment recorded' }).waitFor();

    await waitStatus(txid, 'COMPLETE');
    await page.reload();
    await page.locator('main h1 .status', { hasText: 'COMPLETE' }).waitFor();
    assert.equal(await page.getByTestId('record-payment').count(), 0, 'a COMPLETE order offers no payment form');
    await page.getByRole('heading', { name: 'Products (1)' }).waitFor();
    assert.match(await page.locator('section', { hasText: 'Products (1)' }).locator('tbody td').first().textContent(), /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    await page.getByRole('heading', { name: 'Payments (1)' }).waitFor();

    const shown = (await page.getByTestId('trace').textContent()).split('\n');
    for (const l of shown) assert.match(l, TRACE_LINE);
    assert.ok(shown.some((l) => l.includes('CHQ-WEB-1')), 'the trace shows the recorded cheque');
    assert.ok(shown.some((l) => l.includes(`${op.email} recorded a check payment`)), 'the trace names the operator who recorded it');
    // The page renders the JSON trace exactly as the API renders its text trace.
    const text = await admin('GET', `/admin/orders/${txid}/trace`, undefined, 'text/plain');
    assert.equal(text.status, 200);
    const apiLines = text.raw.trimEnd().split('\n');
    assert.deepEqual(shown, apiLines.slice(0, shown.length));
    assert.deepEqual(errors, []);
  });

  test('a sales operator refunds an invoiced order: credit note, enrolment withdrawn', { timeout: 90_000 }, async () => {
    const txid = await placeChequeOrder();
    assert.equal((await admin('POST', `/admin/orders/${txid}/payment-received`, { mode: 'check', amount: 20995, reference: 'CHQ-WEB-R' })).status, 200);
    const paid = await waitStatus(txid, 'COMPLETE');
    const { page, errors, op } = await signIn('sales', `#/order/${txid}`);
    const form = page.getByTestId('refund');
    await form.waitFor();
    // A cheque is returned by the operator: the reference is required before anything is sent.
    assert.equal(await form.locator('input[name=reference]').getAttribute('required'), '');
    await form.locator('input[name=reference]').fill('CHQ-WEB-R returned');
    await form.getByRole('button', { name: 'Refund' }).click();
    await notice(page).filter({ hasText: 'Refunded' }).waitFor();
    assert.match(await notice(page).textContent(), new RegExp(`${txid} is CANCELLED, reference CHQ-WEB-R returned, credit note CN-\\d{4}-\\d{6}`));
    await page.getByTestId('credit-note').waitFor();
    assert.match(await page.getByTestId('credit-note').textContent(), new RegExp(`^CN-\\d{4}-\\d{6} \\(cancels ${paid.order.invoiceNumber}\\)$`));
    assert.equal(await page.getByTestId('refund').count(), 0, 'a refunded order offers no refund');
    const o = await waitStatus(txid, 'CANCELLED');
    assert.equal(o.order.payments.filter((p) => p.outcome === 'refunded').length, 1);
    const inst = await admin('GET', `/admin/products/${o.products[0].Reference}`);
    assert.ok(inst.json.Events.some((e) => e.Type === 'withdrawn'), 'the enrolment is withdrawn');
    assert.ok(o.trace.some((l) => l.message.startsWith(`${op.email} refunded`)), 'the refund is traced with the operator');
    assert.deepEqual(errors, []);
  });

  test('transitions follow the allowed table and an order can be cancelled', { timeout: 60_000 }, async () => {
    const txid = await placeChequeOrder();
    const { page, errors } = await signIn('sales', `#/order/${txid}`);
    const select = page.getByTestId('transition').locator('select[name=to]');
    await select.waitFor();
    assert.deepEqual(await select.locator('option').allTextContents(), ['CANCELLED', 'REFUSED', 'SOLDOUT', 'FAILED']);

    await select.selectOption('FAILED');
    await page.getByTestId('transition').getByRole('button', { name: 'Move' }).click();
    await notice(page).filter({ hasText: `${txid} moved to FAILED` }).waitFor();
    await waitStatus(txid, 'FAILED');
    // The notice shows before the page has read the order again: wait for the new form.
    await page.getByTestId('transition').getByText('From FAILED to').waitFor();
    assert.deepEqual(await select.locator('option').allTextContents(), ['PENDING', 'CANCELLED', 'SOLDOUT']);

    await page.getByTestId('cancel').click();
    await notice(page).filter({ hasText: `${txid} is CANCELLED` }).waitFor();
    await page.getByText('No action: CANCELLED is final.').waitFor();
    const o = await waitStatus(txid, 'CANCELLED');
    assert.ok(o.trace.some((l) => /cancelled the order/.test(l.message)), 'the cancellation is traced');
    assert.deepEqual(errors, []);
  });

  test('a refused transition shows the API message', { timeout: 60_000 }, async () => {
    const txid = await placeChequeOrder();
    const { page } = await signIn('sales', `#/order/${txid}`);
    await page.getByTestId('transition').waitFor();
    // Another operator refuses the payment meanwhile: the page still offers PENDING’s moves.
    assert.equal((await admin('POST', `/admin/orders/${txid}/transition`, { to: 'REFUSED' })).status, 200);
    await page.getByTestId('transition').locator('select[name=to]').selectOption('FAILED');
    await page.getByTestId('transition').getByRole('button', { name: 'Move' }).click();
    await notice(page).filter({ hasText: '409 conflict' }).waitFor();
    assert.match(await notice(page).textContent(), /cannot move from REFUSED to FAILED/);
  });

  test('a sales operator settles a late cheque by delivering it, and the order moves on', { timeout: 120_000 }, async () => {
    const txid = await latePaidOrder('CHQ-LATE-WEB');
    const { page, errors, op } = await signIn('sales', '#/flags');
    const row = flagRow(page, txid);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[0], txid);
    assert.match(cells[1], /^late/);
    assert.deepEqual(cells.slice(2, 6), ['check', 'CHQ-LATE-WEB', '209.95 EUR', 'CANCELLED']);
    assert.match(cells[6], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
    assert.equal(await row.locator('a').getAttribute('href'), `#/order/${txid}`);

    await shot(page, '15-admin-payments-to-review');
    await row.getByRole('button', { name: 'Deliver' }).click();
    await notice(page).filter({ hasText: `Settled: late payment CHQ-LATE-WEB of ${txid} delivered` }).waitFor();
    const o = await waitStatus(txid, 'COMPLETE');
    assert.equal(o.order.payments.filter((p) => p.outcome === 'paid').length, 1, 'the cheque is stored once');
    assert.ok(o.order.invoiceNumber, 'the delivered order is billed');
    assert.equal(o.products.length, 1, 'the delivered order is produced');
    // The list is read again: the settled flag has left it.
    await page.getByTestId('flag-count').waitFor();
    assert.equal(await flagRow(page, txid).count(), 0);
    const open = await admin('GET', '/admin/flags');
    assert.ok(!open.json.flags.some((f) => f.txid === txid), 'the API lists the flag no more');

    // The order page keeps the flag, settled, with who settled it.
    await page.goto(`${cloud.webURL}/admin/#/order/${txid}`);
    await page.locator('main h1 .status', { hasText: 'COMPLETE' }).waitFor();
    const settled = page.getByTestId('order-flags').getByTestId('flag-settlement');
    assert.match(await settled.textContent(), new RegExp(`^settled: deliver by ${op.email}, \\d{4}-`));
    assert.equal(await page.getByTestId('settle').count(), 0, 'a settled flag offers no action');
    assert.deepEqual(errors, []);
  });

  test('an accountant sees the payments to review, read only', { timeout: 90_000 }, async () => {
    const txid = await latePaidOrder('CHQ-LATE-ACC');
    const { page, errors } = await signIn('accounting', '#/flags');
    const row = flagRow(page, txid);
    await row.waitFor();
    assert.match(await row.getByTestId('flag-reason').textContent(), /^late/);
    assert.equal(await page.getByTestId('settle').count(), 0, 'no settle action anywhere in the list');
    assert.equal(await row.getByRole('button').count(), 0);
    await row.getByTestId('read-only').waitFor();

    await row.locator('a').click();
    await page.locator('main h1', { hasText: txid }).waitFor();
    const section = page.getByTestId('order-flags');
    await section.waitFor();
    assert.match(await section.getByTestId('flag-reason').textContent(), /^late/);
    assert.equal(await section.getByRole('button').count(), 0, 'the order page offers no settle action either');
    // Nothing the accountant looked at changed anything.
    const o = await waitStatus(txid, 'CANCELLED');
    assert.ok(o.flags.some((f) => f.reason === 'late' && !f.settled), 'the flag is still open');
    assert.deepEqual(errors, []);
  });

  test('a duplicate cheque is only refunded, and the refund needs its reference', { timeout: 120_000 }, async () => {
    const txid = await placeChequeOrder();
    assert.equal((await admin('POST', `/admin/orders/${txid}/payment-received`, { mode: 'check', amount: 20995, reference: 'CHQ-DUP-1' })).status, 200);
    await waitStatus(txid, 'COMPLETE');
    const dup = await admin('POST', `/admin/orders/${txid}/payment-received`, { mode: 'check', amount: 20995, reference: 'CHQ-DUP-2' });
    assert.equal(dup.status, 202, dup.raw);
    assert.equal(dup.json.flag.reason, 'duplicate');
    const before = (await admin('GET', `/admin/orders/${txid}`)).json;

    const { page, errors } = await signIn('sales', `#/order/${txid}`);
    const form = page.getByTestId('order-flags').getByTestId('settle');
    await form.waitFor();
    // The order is paid already: the API refuses to deliver a duplicate, so it is not offered.
    assert.deepEqual(await form.getByRole('button').allTextContents(), ['Refund']);
    assert.equal((await admin('POST', `/admin/orders/${txid}/settle`, { action: 'deliver', key: dup.json.flag.key })).status, 409);

    // A cheque is given back by the operator: without the reference nothing is sent.
    await form.getByRole('button', { name: 'Refund' }).click();
    await notice(page).filter({ hasText: 'give the reference of the check refund made' }).waitFor();
    const after = (await admin('GET', `/admin/orders/${txid}`)).json;
    assert.equal(after.order.status, 'COMPLETE');
    assert.deepEqual(after.order.payments, before.order.payments, 'no payment changed');
    assert.deepEqual(after.flags, before.flags, 'the flag is still open, unchanged');

    await form.locator('input[name=reference]').fill('CHQ-DUP-2 returned');
    await form.getByRole('button', { name: 'Refund' }).click();
    await notice(page).filter({ hasText: `Settled: duplicate payment CHQ-DUP-2 of ${txid} refunded; the order is COMPLETE` }).waitFor();
    await page.getByTestId('order-flags').getByTestId('flag-settlement').filter({ hasText: 'settled: refund' }).waitFor();
    const o = (await admin('GET', `/admin/orders/${txid}`)).json;
    assert.equal(o.order.status, 'COMPLETE', 'refunding the duplicate keeps the order delivered');
    assert.equal(o.flags[0].settled, 'refund');
    assert.ok(o.order.payments.some((p) => p.outcome === 'refunded' && p.reference === 'CHQ-DUP-2 returned'), 'the refund is recorded');
    assert.deepEqual(errors, []);
  });

  test('a flag settled meanwhile by another operator: the page shows the API refusal and changes nothing', { timeout: 120_000 }, async () => {
    const txid = await latePaidOrder('CHQ-LATE-RACE');
    const { page, errors } = await signIn('sales', '#/flags');
    const row = flagRow(page, txid);
    await row.getByRole('button', { name: 'Deliver' }).waitFor();
    // Another operator refunds the late cheque while the list is on screen.
    const other = await admin('POST', `/admin/orders/${txid}/settle`, { action: 'refund', reference: 'CHQ-LATE-RACE returned' });
    assert.equal(other.status, 200, other.raw);
    const before = (await admin('GET', `/admin/orders/${txid}`)).json;

    await row.getByRole('button', { name: 'Deliver' }).click();
    await notice(page).filter({ hasText: '409 conflict' }).waitFor();
    assert.match(await notice(page).textContent(), new RegExp(`order ${txid} has no payment to settle`));
    const after = (await admin('GET', `/admin/orders/${txid}`)).json;
    assert.equal(after.order.status, 'CANCELLED', 'the refused deliver did not revive the order');
    assert.deepEqual(after.order.payments, before.order.payments);
    assert.deepEqual(after.flags, before.flags);
    assert.deepEqual(errors, []);
  });

  test('the shop administrator edits a catalog item', { timeout: 60_000 }, async () => {
    const { page, errors } = await signIn('shop-admin', '#/catalog/GO-101');
    const area = page.getByTestId('json');
    await area.waitFor();
    const item = JSON.parse(await area.inputValue());
    assert.equal(item.code, 'GO-101');
    const before = item.name;
    item.name = `${before} (edited)`;
    await area.fill(JSON.stringify(item, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    await notice(page).filter({ hasText: 'Item GO-101 saved.' }).waitFor();
    const cat = await admin('GET', '/admin/catalog');
    assert.equal(cat.json.items.find((i) => i.code === 'GO-101').name, `${before} (edited)`);

    await area.fill('{ not json');
    await page.getByRole('button', { name: 'Save' }).click();
    await notice(page).filter({ hasText: 'Not valid JSON' }).waitFor();
    assert.deepEqual(errors, []);
  });

  test('each role sees only what it may do', { timeout: 120_000 }, async () => {
    const txid = await placeChequeOrder();
    const roles = [
      { group: 'shop-admin', nav: ['Orders', 'Payments to review', 'Catalog', 'Shop', 'Account'], actions: true, export: true },
      { group: 'sales', nav: ['Orders', 'Payments to review', 'Account'], actions: true, export: false },
      { group: 'accounting', nav: ['Orders', 'Payments to review', 'Account'], actions: false, export: true },
    ];
    for (const r of roles) {
      const { page, context, errors } = await signIn(r.group, `#/order/${txid}`);
      await page.getByTestId('total').waitFor(); // the order is loaded, not only its title
      const nav = await page.locator('nav a:visible').allTextContents();
      assert.deepEqual(nav, r.nav, `${r.group}: sections offered`);
      assert.equal(await page.getByTestId('record-payment').count(), r.actions ? 1 : 0, `${r.group}: payment form`);
      assert.equal(await page.getByTestId('cancel').count(), r.actions ? 1 : 0, `${r.group}: cancel button`);
      assert.equal(await page.getByTestId('transition').count(), r.actions ? 1 : 0, `${r.group}: transition form`);
      if (!r.actions) await page.getByTestId('read-only').waitFor();
      await page.goto(`${cloud.webURL}/admin/#/orders?status=PENDING`);
      await page.getByTestId('count').waitFor();
      assert.equal(await page.getByTestId('export').count(), r.export ? 1 : 0, `${r.group}: export button`);
      if (r.export) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
        const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
        assert.match(csv, new RegExp(`^${txid},`, 'm'), `${r.group}: the export lists the order`);
      }
      if (r.group !== 'shop-admin') {
        // Typing the address of a section the role lacks: the API refuses, the page says so.
        await page.goto(`${cloud.webURL}/admin/#/catalog`);
        await page.locator('#notice').filter({ hasText: '403 forbidden' }).waitFor();
      }
      await page.goto(`${cloud.webURL}/admin/#/signin`);
      assert.equal(await page.getByTestId('account-groups').textContent(), r.group);
      assert.deepEqual(errors, []);
      await context.close();
    }
    // Nothing the read-only roles looked at changed the order.
    assert.equal((await waitStatus(txid, 'PENDING')).order.status, 'PENDING');
  });

  test('a wrong password gets nothing', { timeout: 30_000 }, async () => {
    const { page } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/#/signin`);
    const form = page.getByTestId('signin');
    await form.locator('input[name=email]').fill(cloud.cognito.operators.sales.email);
    await form.locator('input[name=password]').fill('not-the-password-1A');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#notice.error').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'nothing is kept after a refused sign-in');
    assert.equal(await page.locator('#who').textContent(), 'signed out');
  });

  test('an expired ID token is refreshed, and signing out forgets the session', { timeout: 60_000 }, async () => {
    const { page, errors } = await signIn('accounting');
    await page.getByTestId('count').waitFor();
    // Age the stored ID token: the next call must renew it with the refresh token first.
    const stale = await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('admin.session'));
      const [h, p, sig] = s.idToken.split('.');
      const claims = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
      claims.exp = Math.floor(Date.now() / 1000) - 5;
      s.idToken = [h, btoa(JSON.stringify(claims)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'), sig].join('.');
      sessionStorage.setItem('admin.session', JSON.stringify(s));
      return s.idToken;
    });
    await page.goto(`${cloud.webURL}/admin/#/orders?status=COMPLETE`);
    await page.getByTestId('count').waitFor();
    const fresh = await page.evaluate(() => JSON.parse(sessionStorage.getItem('admin.session')).idToken);
    assert.notEqual(fresh, stale, 'the page renewed the ID token');
    assert.equal((await api(cloud.apiURL, 'GET', '/admin/me', undefined, stale)).status, 401, 'the aged token itself is refused by the API');

    await page.goto(`${cloud.webURL}/admin/#/signin`);
    await page.getByTestId('signout').click();
    await page.getByTestId('signin').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('admin.session')), null);
    await page.goto(`${cloud.webURL}/admin/#/orders`);
    await page.getByTestId('signin').waitFor();
    assert.deepEqual(errors, []);
  });
  test('an operator turns on an authenticator app, and the next sign-in asks for its code', { timeout: 60_000 }, async () => {
    // An operator of its own, so the other tests' operators keep signing in without a code.
    const email = 'mfa@operators.example.com';
    const password = 'Totp-Operator-2026';
    await idp('AdminCreateUser', { UserPoolId: cloud.cognito.poolId, Username: email, MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }] });
    await idp('AdminSetUserPassword', { UserPoolId: cloud.cognito.poolId, Username: email, Password: password, Permanent: true });
    await idp('AdminAddUserToGroup', { UserPoolId: cloud.cognito.poolId, Username: email, GroupName: 'sales' });

    const { page, errors } = await newPage(browser);
    const signInForm = async () => {
      await page.goto(`${cloud.webURL}/admin/#/signin`);
      await page.reload(); // from a challenge form the address is already #/signin
      const form = page.getByTestId('signin');
      await form.locator('input[name=email]').fill(email);
      await form.locator('input[name=password]').fill(password);
      await form.getByRole('button', { name: 'Sign in' }).click();
    };
    await signInForm();
    await page.locator('#notice').filter({ hasText: `Signed in as ${email}` }).waitFor();
    await page.goto(`${cloud.webURL}/admin/#/signin`);
    await page.getByTestId('totp-start').click();
    const secret = await page.getByTestId('totp-secret').textContent();
    await page.locator('input[name=code]').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#notice').filter({ hasText: 'Two-factor sign-in is on' }).waitFor();
    await page.getByTestId('signout').click();
    await page.getByTestId('signin').waitFor();

    await signInForm();
    const challenge = page.getByTestId('challenge');
    await challenge.waitFor();
    await challenge.locator('input[name=code]').fill(totp(secret, Date.now() + 15 * 60_000)); // a code of another time
    await challenge.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#notice.error').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('admin.session')), null, 'a wrong code signs nobody in');

    await signInForm();
    await challenge.waitFor();
    await challenge.locator('input[name=code]').fill(totp(secret));
    await challenge.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#notice').filter({ hasText: `Signed in as ${email}` }).waitFor();
    await page.getByTestId('count').waitFor();
    assert.deepEqual(errors, []);
  });
});
