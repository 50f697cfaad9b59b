// Browser tests of the storefront against the whole local cloud: a purchase of the
// seats pack with required data paid in test mode up to the bill; a failed payment
// retried with another mode (from a prefill link with autodrive); the French
// interface on a phone-sized screen. Screenshots go to docs/screenshots/.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud, launchBrowser, newPage, shot, api } from './harness.mjs';

let cloud;
let browser;
let catalog;

before(async () => {
  cloud = await startCloud();
  browser = await launchBrowser();
  const r = await api(cloud.apiURL, 'GET', '/catalog');
  assert.equal(r.status, 200, r.text);
  catalog = r.json.catalog;
}, { timeout: 360_000 });

after(async () => {
  await browser?.close();
  await cloud?.stop();
});

// item picks a sellable demo item by what the scenario needs, so the tests say why
// they use it.
function item(pred, what) {
  const it = catalog.items.find((i) => ['AVAILABLE', 'PROVIDING'].includes(i.status) && !i.passwordProtected && pred(i));
  assert.ok(it, `the demo catalog has no ${what}`);
  return it;
}

const ready = (page) => page.waitForSelector('body[data-ready="true"]');
const h1 = (page) => page.locator('main h1');
// at waits until the page for route is drawn (the hash changes before the view is);
// if the page shows an error instead, it fails with that error's text.
async function at(page, route) {
  const drawn = page.waitForURL(new RegExp(`#/${route}$`))
    .then(() => page.locator(`main[data-view="${route}"]:not([aria-busy])`).waitFor());
  const failed = page.locator('#notices .notice-error').first().waitFor()
    .then(async () => { throw new Error(`expected the ${route} page, the page shows: ${await page.locator('#notices').textContent()}`); });
  failed.catch(() => {}); // settles after the race when the page is drawn first
  await Promise.race([drawn, failed]);
}
const session = (page) => page.evaluate(() => ({ tx: sessionStorage.getItem('checkout.tx'), token: sessionStorage.getItem('checkout.token') }));

// waitStatus waits for the status page to show an order status; on timeout it says
// which status the page was stuck on.
async function waitStatus(page, status, timeout) {
  const failed = page.locator('#notices .notice-error').first().waitFor({ timeout })
    .then(async () => { throw new Error(`waiting for ${status}, the page shows: ${await page.locator('#notices').textContent()}`); });
  failed.catch(() => {}); // settles after the race when the status comes first
  try {
    await Promise.race([page.locator(`.status[data-status="${status}"]`).waitFor({ timeout }), failed]);
  } catch (e) {
    if (!(e.name === 'TimeoutError')) throw e;
    const seen = await page.locator('.status').getAttribute('data-status').catch(() => null);
    throw new Error(`order not ${status} after ${timeout} ms: the page shows ${seen}`, { cause: e });
  }
}

// unlabelled lists the form controls of the page that have no label a screen reader
// would announce.
function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, aside input')]
    .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
    .map((el) => el.id || el.name || el.outerHTML.slice(0, 60)));
}

// progressSteps is what the progress bar lists, and which entry is current.
function progressSteps(page) {
  return page.evaluate(() => ({
    steps: [...document.querySelectorAll('#progress li')].map((li) => li.textContent.replace(/^\d+\s*/, '').replace(/\s*\(.*\)$/, '').trim()),
    current: document.querySelector('#progress li[aria-current="step"]')?.textContent.replace(/^\d+\s*/, '').trim(),
  }));
}

// overflowX is how many pixels the page is wider than the screen (0 on a page that
// fits a phone).
function overflowX(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

async function fillCustomer(page, { email, country = 'FR' }) {
  await page.locator('#cust-email').fill(email);
  await page.locator('#cust-lastName').fill('durand');
  await page.locator('#cust-firstName').fill('claire');
  await page.locator('#cust-address').fill('1 rue de la Paix');
  await page.locator('#cust-zip').fill('75002');
  await page.locator('#cust-city').fill('Paris');
  await page.locator('#cust-country').selectOption(country);
}

// placeFromPrefill opens a prefill link for one unit of code, fills the buyer and
// places the order with paymode; it returns the page on the payment page.
async function placeFromPrefill(code, paymode, email) {
  const r = await api(cloud.apiURL, 'GET', `/shop/prefill?${code}=1&autodrive=1`);
  assert.equal(r.status, 302, r.text);
  const { page, errors } = await newPage(browser);
  await page.goto(r.headers.get('location'));
  await ready(page);
  await at(page, 'customer');
  await fillCustomer(page, { email });
  await page.getByRole('button', { name: /Continue/ }).click();
  await at(page, 'review');
  await page.getByLabel('I have read and accept the terms of sale').check();
  await page.locator(`#pm-${paymode}`).check();
  await page.getByRole('button', { name: /Place the order/ }).click();
  await at(page, 'payment');
  return { page, errors };
}

describe('storefront', () => {
  test('buys the seats pack with seats and required data, pays in test mode, and shows the bill', { timeout: 180_000 }, async () => {
    const seatsItem = item((i) => i.seats === 'seatsFromQuantity' && (i.seatRoles || []).length > 0, 'item sold by seats with a supervisor role');
    const reqItem = item((i) => (i.requiredData || []).length > 0 && i.seats === 'none', 'item with required data');
    const { page, errors } = await newPage(browser);
    await page.goto(`${cloud.webURL}/`);
    await ready(page);
    assert.equal(await h1(page).textContent(), 'Catalogue');
    await page.getByRole('button', { name: `Add ${seatsItem.name} to the cart` }).click();
    await page.locator(`#qty-${seatsItem.code}`).waitFor();
    await shot(page, '01-shop-cart', { fullPage: false });

    // Two seats: the line and the totals follow the server's prices.
    await page.locator(`#qty-${seatsItem.code}`).fill('2');
    await page.locator(`#qty-${seatsItem.code}`).press('Enter'); // the keyboard submits the line's form
    await page.locator(`li.line[data-code="${seatsItem.code}"] .line-sub`, { hasText: '2 ×' }).waitFor();
    await page.getByRole('button', { name: `Add ${reqItem.name} to the cart` }).click();
    await page.locator(`li.line[data-code="${reqItem.code}"]`).waitFor();
    const { tx, token } = await session(page);
    assert.match(tx, /^[A-Z0-9]{16}$/);
    const cart = (await api(cloud.apiURL, 'GET', `/carts/${tx}`, undefined, token)).json;
    assert.equal(cart.lines.length, 2);
    assert.equal(await page.locator('.cartbox .final-amount').textContent(),
      new Intl.NumberFormat('en-GB', { style: 'currency', currency: cart.currency }).format(cart.totals.final / 100));

    // Required data: empty and malformed values are refused field by field.
    await page.getByRole('button', { name: /Continue/ }).click();
    await at(page, 'requirements');
    assert.deepEqual(await unlabelled(page), []);
    const short = page.locator(`[data-path="${reqItem.code}[1].${reqItem.requiredData[0].field}"]`);
    await page.getByRole('button', { name: /Continue/ }).click();
    await page.locator('.form-errors').waitFor({ state: 'visible' });
    assert.equal(await short.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator(`#${await short.getAttribute('id')}-err`).textContent(), /required/);
    await shot(page, '02-requirements-errors');
    for (const rf of reqItem.requiredData) {
      const input = page.locator(`[data-path="${reqItem.code}[1].${rf.field}"]`);
      if (rf.type === 'select') await input.selectOption(rf.options[rf.options.length - 1]);
      else if (rf.type === 'checkbox') await input.check();
      else await input.fill(rf.pattern ? 'GO-SPACE-42' : 'Go in practice');
    }
    await page.getByRole('button', { name: /Continue/ }).click();

    // Seats: two students and a supervisor; an incomplete form is refused.
    await at(page, 'seats');
    assert.equal(await page.locator('fieldset.seat').count(), 2 + seatsItem.seatRoles.length);
    assert.deepEqual(await progressSteps(page), { steps: ['Shop', 'Details', 'Participants', 'Your details', 'Review', 'Payment', 'Invoice'], current: 'Participants' });
    assert.deepEqual(await unlabelled(page), []);
    await page.locator('#seat-0-email').fill('not-an-address');
    await page.getByRole('button', { name: /Continue/ }).click();
    await page.locator('#seat-0-email[aria-invalid="true"]').waitFor();
    const people = [['ann.lee@example.com', 'lee', 'ann', 'Lyon'], ['bob.ray@example.com', 'ray', 'bob', 'Nice'], ['carla.diaz@example.com', 'diaz', 'carla', 'Paris']];
    for (const [i, [email, last, first, city]] of people.entries()) {
      await page.locator(`#seat-${i}-email`).fill(email);
      await page.locator(`#seat-${i}-lastName`).fill(last);
      await page.locator(`#seat-${i}-firstName`).fill(first);
      await page.locator(`#seat-${i}-city`).fill(city);
    }
    await shot(page, '03-seats');
    await page.getByRole('button', { name: /Continue/ }).click();

    // Back and forth: the seats kept what was entered, names normalised by the API.
    await at(page, 'customer');
    await page.getByRole('button', { name: /Back/ }).click();
    await at(page, 'seats');
    assert.equal(await page.locator('#seat-0-lastName').inputValue(), 'Lee');
    await page.getByRole('button', { name: /Continue/ }).click();
    await at(page, 'customer');
    assert.deepEqual(await unlabelled(page), []);
    await fillCustomer(page, { email: 'claire.durand@example.com' });
    await shot(page, '04-customer');
    await page.getByRole('button', { name: /Continue/ }).click();

    // Review: the terms must be accepted before the order can be placed.
    await at(page, 'review');
    await page.getByText('Ann Lee').first().waitFor();
    await page.getByLabel('Test payment (no money moves)').check();
    await page.getByRole('button', { name: /Place the order/ }).click();
    assert.match(await page.locator('#accept-err').textContent(), /accept the terms/);
    await page.getByLabel('I have read and accept the terms of sale').check();
    await shot(page, '05-review');
    await page.getByRole('button', { name: /Place the order/ }).click();

    await at(page, 'payment');
    await page.locator('#pay-pay').waitFor();
    await shot(page, '06-payment-test');
    await page.locator('#pay-pay').click();
    await at(page, 'status');
    await waitStatus(page, 'COMPLETE', 60_000);
    await shot(page, '07-status-complete');
    const order = await api(cloud.apiURL, 'GET', `/orders/${tx}`, undefined, token);
    assert.equal(order.json.status, 'COMPLETE');

    await page.locator('#see-bill').click();
    await at(page, 'bill');
    const frame = page.frameLocator('#billframe');
    await frame.locator('body', { hasText: tx }).waitFor();
    await shot(page, '08-bill');
    assert.deepEqual(errors.map(String), []);
  });

  test('a failed test payment is retried with a bank transfer (prefill link, autodrive)', { timeout: 120_000 }, async () => {
    const plain = item((i) => i.seats === 'none' && !(i.requiredData || []).length && i.tiers[0].unitPrice > 0, 'paying item without seats or data');
    const r = await api(cloud.apiURL, 'GET', `/shop/prefill?${plain.code}=1&NO-SUCH-ITEM=2&autodrive=1`);
    assert.equal(r.status, 302, r.text);
    const { page, errors } = await newPage(browser);
    await page.goto(r.headers.get('location'));
    await ready(page);
    // Autodrive passes the shop (cart filled) and the skipped steps; it stops where
    // input is needed. The unknown code is reported, and the token leaves the URL.
    await at(page, 'customer');
    await page.getByText('NO-SUCH-ITEM').waitFor();
    // Nothing to collect per unit and no seats: the bar skips those steps.
    assert.deepEqual(await progressSteps(page), { steps: ['Shop', 'Your details', 'Review', 'Payment', 'Invoice'], current: 'Your details' });
    assert.doesNotMatch(page.url(), /token=/);
    await page.getByRole('button', { name: /Back/ }).click();
    await at(page, 'shop'); // no data or seats to collect: back skips them too
    await page.getByRole('button', { name: /Continue/ }).click();
    await at(page, 'customer');
    await fillCustomer(page, { email: 'fail.then.transfer@example.com' });
    await page.getByRole('button', { name: /Continue/ }).click();
    await at(page, 'review');
    await page.getByLabel('I have read and accept the terms of sale').check();
    await page.getByLabel('Test payment (no money moves)').check();
    await page.getByRole('button', { name: /Place the order/ }).click();
    await page.locator('#pay-fail').click();
    await waitStatus(page, 'FAILED', 60_000);
    await page.locator('#retry-transfer').check();
    await shot(page, '09-failed-retry');
    await page.locator('#retry').click();
    await at(page, 'payment');
    const { tx } = await session(page);
    await page.locator('.offline-transfer .reference', { hasText: tx }).waitFor();
    assert.notEqual((await page.locator('.offline-transfer .iban').textContent()).trim(), '');
    await shot(page, '10-transfer-instructions');
    assert.deepEqual(errors.map(String), []);
  });

  test('speaks French on a phone-sized screen, switches language, and resets the cart', { timeout: 90_000 }, async () => {
    const plain = item((i) => i.seats === 'none' && !(i.requiredData || []).length && i.tiers[0].unitPrice > 0, 'paying item without seats or data');
    const { page, errors } = await newPage(browser, { locale: 'fr-FR', viewport: { width: 390, height: 844 } });
    await page.goto(`${cloud.webURL}/`);
    await ready(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
    // A protected item asks for its password; a wrong one is refused with a message.
    const locked = catalog.items.find((i) => i.passwordProtected && ['AVAILABLE', 'PROVIDING'].includes(i.status));
    assert.ok(locked, 'the demo catalog has no password-protected item');
    const card = page.locator(`article.item[data-code="${locked.code}"]`);
    await card.getByLabel('Mot de passe').fill('not-the-password');
    await card.getByRole('button', { name: 'Déverrouiller' }).click();
    await page.locator('#notices .notice-error', { hasText: 'mot de passe incorrect' }).waitFor();
    assert.equal(await card.getByRole('button', { name: /Ajouter/ }).count(), 0);
    await page.getByRole('button', { name: `Ajouter ${plain.name} au panier` }).click();
    await page.locator(`li.line[data-code="${plain.code}"]`).waitFor();
    const price = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' }).format(plain.tiers[0].unitPrice / 100);
    assert.match(await page.locator(`li.line[data-code="${plain.code}"] .line-sub`).textContent(), new RegExp(`1 × ${price.replace(/\s/g, '\\s')} HT`));
    await page.getByRole('button', { name: 'Réinitialiser' }).waitFor();
    assert.deepEqual(await unlabelled(page), []);
    assert.equal(await overflowX(page), 0, 'the shop is wider than the phone');
    await shot(page, '11-fr-phone-shop', { fullPage: false });

    // Progress bar and steps in French; the choice survives a reload of the tab.
    await page.getByRole('button', { name: /Continuer/ }).click();
    await at(page, 'customer');
    assert.equal(await h1(page).textContent(), 'Vos coordonnées');
    await page.getByRole('button', { name: /Continuer/ }).click();
    await page.locator('.form-errors:not([hidden])').waitFor();
    assert.match(await page.locator('.form-errors').textContent(), /Merci de corriger/);
    assert.equal(await page.locator('#cust-city-err').textContent(), 'obligatoire');
    assert.equal(await overflowX(page), 0, 'the customer page is wider than the phone');
    await shot(page, '12-fr-phone-customer-errors');
    // Distinct invoicing information has its own required fields.
    await page.getByLabel('Facturer à d’autres coordonnées (entreprise, service…)').check();
    await page.locator('#inv-organisation').waitFor();
    await page.getByRole('button', { name: /Continuer/ }).click();
    await page.locator('#inv-organisation[aria-invalid="true"]').waitFor();
    assert.equal(await page.locator('#inv-organisation-err').textContent(), 'obligatoire');
    assert.equal(await page.locator('#cust-address[aria-invalid="true"]').count(), 0, 'address stays optional with invoicing details');
    await page.getByRole('button', { name: 'English' }).click();
    await page.locator('main h1', { hasText: 'Your details' }).waitFor();
    await page.reload();
    await ready(page);
    assert.equal(await h1(page).textContent(), 'Your details');
    await page.getByRole('button', { name: 'Français' }).click();
    await page.locator('main h1', { hasText: 'Vos coordonnées' }).waitFor();

    // Reset empties the cart on the server and in the page.
    const { tx, token } = await session(page);
    await page.getByRole('button', { name: /Retour/ }).click();
    await at(page, 'shop');
    await page.getByRole('button', { name: 'Réinitialiser' }).click();
    await page.getByText('Le panier a été vidé.').waitFor();
    await page.getByText('Votre panier est vide.').waitFor();
    const after = await api(cloud.apiURL, 'GET', `/carts/${tx}`, undefined, token);
    if (after.status === 200) assert.deepEqual(after.json.lines, [], 'the reset cart still has lines');
    else assert.ok([401, 404, 410].includes(after.status), `reset cart answers ${after.status}`);
    assert.deepEqual(errors.map(String), []);
  });
  test('a deferred test payment completes when the simulated provider calls back', { timeout: 120_000 }, async () => {
    const plain = item((i) => i.seats === 'none' && !(i.requiredData || []).length && i.tiers[0].unitPrice > 0, 'paying item without seats or data');
    const { page, errors } = await placeFromPrefill(plain.code, 'test', 'deferred@example.com');
    await page.locator('#pay-defer').click();
    await at(page, 'status');
    await page.locator('.status[data-status="PENDING"], .status[data-status="COMPLETE"]').waitFor();
    await shot(page, '13-deferred-pending');
    // The API hands the simulated provider's callback to the page, which delivers it
    // on request (a provider that calls back by itself needs no button).
    if (await page.locator('#send-callback').count()) await page.locator('#send-callback').click();
    await waitStatus(page, 'COMPLETE', 60_000);
    assert.deepEqual(errors.map(String), []);
  });

  test('a cheque order shows where to send the cheque and stays awaiting payment', { timeout: 120_000 }, async () => {
    const plain = item((i) => i.seats === 'none' && !(i.requiredData || []).length && i.tiers[0].unitPrice > 0, 'paying item without seats or data');
    const { page, errors } = await placeFromPrefill(plain.code, 'check', 'cheque@example.com');
    const { tx, token } = await session(page);
    await page.locator('.offline-check .reference', { hasText: tx }).waitFor();
    assert.notEqual((await page.locator('.offline-check .postal').textContent()).trim(), '');
    const o = (await api(cloud.apiURL, 'GET', `/orders/${tx}`, undefined, token)).json;
    assert.match(await page.locator('.offline-check .amount').textContent(), new RegExp(new Intl.NumberFormat('en-GB', { style: 'currency', currency: o.currency }).format(o.totals.final / 100).replace(/[.$]/g, '\\$&')));
    await shot(page, '14-cheque-instructions');
    await page.getByRole('link', { name: 'Follow my order' }).click();
    await at(page, 'status');
    await waitStatus(page, 'PENDING', 30_000);
    assert.deepEqual(errors.map(String), []);
  });
  // The local cloud configures no online provider (the review offers test, check and
  // transfer only), so this test replaces the API's answer to GET /orders/{txid} with
  // the contract's redirect and form instructions, to check what the page does with
  // them: follow the redirect, and post the provider's form with its fields.
  test('online provider instructions: follows a redirect and posts a provider form (API answer substituted)', { timeout: 120_000 }, async () => {
    const plain = item((i) => i.seats === 'none' && !(i.requiredData || []).length && i.tiers[0].unitPrice > 0, 'paying item without seats or data');
    const { page, errors } = await placeFromPrefill(plain.code, 'check', 'online@example.com');
    const { tx, token } = await session(page);
    const real = (await api(cloud.apiURL, 'GET', `/orders/${tx}`, undefined, token)).json;
    const provider = 'https://pay.provider.test';
    let posted = null;
    await page.route(`${provider}/**`, async (route) => {
      if (route.request().method() === 'POST') posted = route.request().postData();
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<title>Provider</title><h1>Provider page</h1>' });
    });
    let payment = { mode: 'stripe', kind: 'redirect', attempt: 1, redirectUrl: `${provider}/checkout/cs_test_123` };
    await page.route(`${cloud.apiURL}/orders/${tx}`, (route) => route.fulfill({
      status: 200, contentType: 'application/json', headers: { 'access-control-allow-origin': '*' },
      body: JSON.stringify({ ...real, status: 'PENDING', paymode: payment.mode, payment }),
    }));

    await page.evaluate(() => { location.hash = '#/status'; });
    await page.evaluate(() => { location.hash = '#/payment'; });
    await page.waitForURL(`${provider}/checkout/cs_test_123`);
    assert.equal(await page.locator('h1').textContent(), 'Provider page');

    await page.goBack();
    payment = { mode: 'systempay', kind: 'form', attempt: 2, form: { action: `${provider}/vads/payment`, method: 'POST',
      fields: [{ name: 'vads_trans_id', value: '000042' }, { name: 'vads_amount', value: String(real.totals.final) }, { name: 'signature', value: 'c2ln' }] } };
    await page.goto(`${cloud.webURL}/#/payment`);
    await page.waitForURL(`${provider}/vads/payment`);
    assert.equal(posted, `vads_trans_id=000042&vads_amount=${real.totals.final}&signature=c2ln`);
    assert.deepEqual(errors.map(String), []);
  });

  test('a link taken from an e-mail opens the bill and the order in a fresh browser, read-only', { timeout: 180_000 }, async () => {
    assert.ok(cloud.sesURL, 'the local cloud did not print the SES emulator\'s URL');
    const it = item((i) => (i.requiredData || []).length === 0 && i.seats === 'none' && !(i.bundle || []).length && i.audience === 'anyone', 'plain item');
    // The purchase through the API: placed and paid in test mode with the cart token.
    const created = await api(cloud.apiURL, 'POST', '/carts');
    const { transactionId: tx, cartToken: token } = created.json;
    assert.equal((await api(cloud.apiURL, 'PUT', `/carts/${tx}/lines/${it.code}`, { quantity: 1 }, token)).status, 200);
    const email = `link.${Date.now()}@example.com`;
    assert.equal((await api(cloud.apiURL, 'PUT', `/carts/${tx}/customer`, { email, lastName: 'durand', firstName: 'claire', address: '1 rue', zip: '75002', city: 'Paris', country: 'FR', lang: 'en' }, token)).status, 200);
    assert.equal((await api(cloud.apiURL, 'POST', `/carts/${tx}/order`, { acceptTerms: true, paymode: 'test' }, token)).status, 201);
    for (let i = 0; i < 100; i++) {
      const r = await api(cloud.apiURL, 'POST', `/orders/${tx}/payment/test`, { action: 'pay' }, token);
      if (r.status === 200) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    // The delivery e-mail, as the SES emulator stored it.
    let link;
    for (let i = 0; i < 150 && !link; i++) {
      const store = await (await fetch(`${cloud.sesURL}/store`)).json();
      for (const m of store.emails || []) {
        const text = JSON.stringify(m);
        const found = new RegExp(`https?://[^"\\s]+/#/bill/${tx}\\?token=[0-9a-f]+`).exec(text);
        if (found && text.includes(email)) link = found[0];
      }
      if (!link) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(link, `no e-mail to ${email} with a link to the bill of ${tx}`);

    // A fresh browser: no cart token, only the link.
    const { page, errors } = await newPage(browser);
    await page.goto(link);
    await ready(page);
    await at(page, 'bill');
    assert.ok(!page.url().includes('token='), 'the link token stays in the address bar');
    const frame = page.frameLocator('#billframe');
    await frame.locator('body', { hasText: tx }).waitFor();
    assert.match(await frame.locator('body').textContent(), /Invoice/);
    // From the bill to the order's status, still with the link's token.
    await page.locator('main a[href="#/status"]').click();
    await waitStatus(page, 'COMPLETE', 30_000);
    const stored = await session(page);
    assert.equal(stored.tx, tx);
    assert.equal(stored.token, null, 'a link must not give the cart token');
    // The link reads and can do nothing else: the API refuses it for paying.
    const linkToken = new URL(link.replace('#/', '')).searchParams.get('token');
    const pay = await fetch(`${cloud.apiURL}/orders/${tx}/payment/test?token=${linkToken}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"action":"pay"}' });
    assert.equal(pay.status, 401);
    // A forged token is refused and the page says so.
    const other = await newPage(browser);
    await other.page.goto(link.replace(/token=[0-9a-f]{10}/, 'token=ffffffffff'));
    await ready(other.page);
    await other.page.locator('#notices .notice-error').first().waitFor();
    assert.deepEqual(errors, []);
    await page.context().close();
    await other.page.context().close();
  });

  test('the status page of a refunded invoiced order links the printable credit note', { timeout: 180_000 }, async () => {
    const it = item((i) => (i.requiredData || []).length === 0 && i.seats === 'none' && !(i.bundle || []).length && i.audience === 'anyone', 'plain item');
    // Placed by cheque through the API, the cheque received and the order refunded by
    // the shop's administrator, signed in to the local user pool as the back office is.
    const { transactionId: tx, cartToken: token } = (await api(cloud.apiURL, 'POST', '/carts')).json;
    assert.equal((await api(cloud.apiURL, 'PUT', `/carts/${tx}/lines/${it.code}`, { quantity: 1 }, token)).status, 200);
    assert.equal((await api(cloud.apiURL, 'PUT', `/carts/${tx}/customer`, { email: `refund.${Date.now()}@example.com`, lastName: 'durand', firstName: 'claire', address: '1 rue', zip: '75002', city: 'Paris', country: 'FR', lang: 'en' }, token)).status, 200);
    assert.equal((await api(cloud.apiURL, 'POST', `/carts/${tx}/order`, { acceptTerms: true, paymode: 'check' }, token)).status, 201);
    const op = cloud.cognito.operators['shop-admin'];
    const auth = await fetch(cloud.cognito.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
      body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: cloud.cognito.clientId, AuthParameters: { USERNAME: op.email, PASSWORD: op.password } }),
    });
    const idToken = (await auth.json()).AuthenticationResult.IdToken;
    const until = async (want) => {
      for (let i = 0; i < 150; i++) {
        const o = await api(cloud.apiURL, 'GET', `/orders/${tx}`, undefined, token);
        if (o.json?.status === want) return o.json;
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.fail(`order ${tx} never reached ${want}`);
    };
    const placed = await until('PENDING');
    const received = await api(cloud.apiURL, 'POST', `/admin/orders/${tx}/payment-received`, { mode: 'check', amount: placed.totals.final, reference: 'CHQ-CN' }, idToken);
    assert.equal(received.status, 200, received.text);
    const invoiced = await until('COMPLETE');
    const refunded = await api(cloud.apiURL, 'POST', `/admin/orders/${tx}/refund`, { reference: 'CHQ-CN returned' }, idToken);
    assert.equal(refunded.status, 200, refunded.text);
    const { creditNote, linkToken } = await until('CANCELLED');
    assert.match(creditNote.number, /^CN-\d{4}-\d{6}$/);
    assert.equal(creditNote.credits, invoiced.invoiceNumber);

    // The buyer opens the order from a link, as from the refund e-mail.
    const { page, errors } = await newPage(browser);
    await page.goto(`${cloud.webURL}/#/order/${tx}?token=${linkToken}`);
    await ready(page);
    await waitStatus(page, 'CANCELLED', 30_000);
    const notice = page.locator('.status .refunded');
    assert.match(await notice.textContent(), new RegExp(`refunded.*Credit note ${creditNote.number} cancels invoice ${invoiced.invoiceNumber}`));
    assert.equal(await page.locator('#see-bill').count(), 1, 'the invoice stays beside the credit note');
    const [tab] = await Promise.all([page.context().waitForEvent('page'), page.locator('#see-creditnote').click()]);
    await tab.waitForLoadState();
    assert.equal(await tab.locator('h1').textContent(), `Credit note ${creditNote.number}`);
    assert.match(await tab.locator('body').textContent(), new RegExp(`cancels invoice ${invoiced.invoiceNumber}`));
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
