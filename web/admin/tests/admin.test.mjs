// Browser tests of the back-office page against the whole local cloud: an operator
// finds a cheque order, records the cheque and reads the trace; moves an order along
// the allowed transitions (docs/spec.md) and cancels it; edits a catalog item; and a wrong
// secret is turned away by the gateway. Every call the page makes is signed in the
// browser (sigv4.js) and checked by the local API Gateway's SigV4 verification.
//
// Run: node --test web/admin/tests/

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, launchBrowser, newPage, api } from '../../tests/harness.mjs';
import { signRequest } from '../sigv4.js';

const LOCAL = { accessKeyId: 'local', secretAccessKey: 'localsecret' };
const REGION = 'us-east-1';
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

// admin calls the back office from Node, signed with the same module the page uses.
async function admin(method, path, body, accept = 'application/json') {
  const url = cloud.apiURL + path;
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers = await signRequest({ method, url, headers: body === undefined ? {} : { 'Content-Type': 'application/json' }, body: text, credentials: LOCAL, region: REGION });
  const res = await fetch(url, { method, headers: { ...headers, Accept: accept }, body: body === undefined ? undefined : text });
  const raw = await res.text();
  return { status: res.status, raw, json: accept === 'application/json' && raw ? JSON.parse(raw) : null };
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

describe('back office', () => {
  test('the API lets the page sign its calls (CORS allows x-amz-date)', async () => {
    const res = await fetch(`${cloud.apiURL}/admin/orders`, {
      method: 'OPTIONS',
      headers: { Origin: cloud.webURL, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization,x-amz-date' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), cloud.webURL,
      'the HttpApi CorsConfiguration (template.yaml) must allow the x-amz-date header, which every SigV4-signed browser call sends');
  });

  test('an operator records a cheque and reads the trace', { timeout: 90_000 }, async () => {
    const txid = await placeChequeOrder();
    const { page, errors } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/#/orders?status=PENDING`);
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
    // The page renders the JSON trace exactly as the API renders its text trace.
    const text = await admin('GET', `/admin/orders/${txid}/trace`, undefined, 'text/plain');
    assert.equal(text.status, 200);
    const apiLines = text.raw.trimEnd().split('\n');
    assert.deepEqual(shown, apiLines.slice(0, shown.length));
    assert.deepEqual(errors, []);
  });

  test('transitions follow the allowed table and an order can be cancelled', { timeout: 60_000 }, async () => {
    const txid = await placeChequeOrder();
    const { page, errors } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/#/order/${txid}`);
    const select = page.getByTestId('transition').locator('select[name=to]');
    await select.waitFor();
    assert.deepEqual(await select.locator('option').allTextContents(), ['CANCELLED', 'REFUSED', 'SOLDOUT', 'FAILED']);

    await select.selectOption('FAILED');
    await page.getByTestId('transition').getByRole('button', { name: 'Move' }).click();
    await notice(page).filter({ hasText: `${txid} moved to FAILED` }).waitFor();
    await waitStatus(txid, 'FAILED');
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
    const { page } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/#/order/${txid}`);
    await page.getByTestId('transition').waitFor();
    // Another operator refuses the payment meanwhile: the page still offers PENDING’s moves.
    assert.equal((await admin('POST', `/admin/orders/${txid}/transition`, { to: 'REFUSED' })).status, 200);
    await page.getByTestId('transition').locator('select[name=to]').selectOption('FAILED');
    await page.getByTestId('transition').getByRole('button', { name: 'Move' }).click();
    await notice(page).filter({ hasText: '409 conflict' }).waitFor();
    assert.match(await notice(page).textContent(), /cannot move from REFUSED to FAILED/);
  });

  test('an operator edits a catalog item', { timeout: 60_000 }, async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/#/catalog/GO-101`);
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

  test('a wrong secret is turned away by the gateway', { timeout: 30_000 }, async () => {
    const { page } = await newPage(browser);
    await page.goto(`${cloud.webURL}/admin/#/signin`);
    const form = page.getByTestId('signin');
    await form.locator('input[name=secret]').fill('not-the-secret');
    await form.getByRole('button', { name: 'Use this key' }).click();
    await notice(page).filter({ hasText: '403 gateway' }).waitFor();
    assert.match(await notice(page).textContent(), /signature we calculated does not match/);
  });
});
