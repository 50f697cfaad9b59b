// Unit tests of the API client (no browser, no server): the bearer token, the JSON
// bodies, and the error answers turned into ApiError with the API's fields.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

// The client keeps its identifiers in sessionStorage, which node lacks.
const store = new Map();
globalThis.sessionStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
};
const { Client, ApiError, session } = await import('../js/api.js');

// recorder answers each call with the next canned response and records the request.
function recorder(responses) {
  const calls = [];
  const fetchFn = async (url, init) => {
    calls.push({ url, ...init, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const [status, body] = responses.shift();
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
  return { calls, fetchFn };
}

beforeEach(() => store.clear());

test('creating a cart stores its ID and token, later calls send the token', async () => {
  const { calls, fetchFn } = recorder([
    [201, { transactionId: 'TX0000000000000A', cartToken: 'tok-1', expiresAt: '2026-01-01T00:00:00Z' }],
    [200, { transactionId: 'TX0000000000000A', lines: [{ code: 'A', quantity: 3 }] }],
  ]);
  const c = new Client('http://api.test/', fetchFn);
  await c.createCart([{ code: 'A', quantity: 1 }], 'PARTNER');
  assert.equal(session.tx, 'TX0000000000000A');
  assert.equal(session.token, 'tok-1');
  assert.equal(calls[0].headers.Authorization, undefined, 'no token before the cart exists');
  assert.deepEqual(calls[0].body, { lines: [{ code: 'A', quantity: 1 }], partner: 'PARTNER' });
  const view = await c.setLine('A/B', 3);
  assert.equal(view.lines[0].quantity, 3);
  assert.equal(calls[1].url, 'http://api.test/carts/TX0000000000000A/lines/A%2FB');
  assert.equal(calls[1].method, 'PUT');
  assert.equal(calls[1].headers.Authorization, 'Bearer tok-1');
  assert.deepEqual(calls[1].body, { quantity: 3 });
});

test('error answers become ApiError with status, code, message and fields', async () => {
  const cases = [
    { res: [400, { error: { code: 'invalid', message: 'invalid data', fields: [{ field: 'email', message: 'is required' }] } }], status: 400, code: 'invalid', fields: 1, gone: false },
    { res: [410, { error: { code: 'gone', message: 'the cart expired' } }], status: 410, code: 'gone', fields: 0, gone: true },
    { res: [404, { error: { code: 'notfound', message: 'no cart' } }], status: 404, code: 'notfound', fields: 0, gone: true },
    { res: [403, { error: { code: 'forbidden', message: 'wrong password' } }], status: 403, code: 'forbidden', fields: 0, gone: false },
    { res: [502, 'Bad gateway'], status: 502, code: '', fields: 0, gone: false },
  ];
  for (const c of cases) {
    session.set('TX', 'tok');
    const { fetchFn } = recorder([c.res]);
    const err = await new Client('http://api.test', fetchFn).cart().then(() => null, (e) => e);
    assert.ok(err instanceof ApiError, `${c.status} is an ApiError`);
    assert.equal(err.status, c.status);
    assert.equal(err.code, c.code);
    assert.equal(err.fields.length, c.fields);
    assert.equal(err.gone, c.gone, `gone for ${c.status}`);
    assert.notEqual(err.message, '');
  }
});

test('a network failure is an ApiError with status 0', async () => {
  session.set('TX', 'tok');
  const c = new Client('http://api.test', async () => { throw new TypeError('Failed to fetch'); });
  const err = await c.order().then(() => null, (e) => e);
  assert.equal(err.status, 0);
  assert.equal(err.code, 'network');
});

test('the bill link for a new tab carries a read-only link token, never the cart token', () => {
  session.set('TX1', 'cart-secret');
  const c = new Client('http://api.test');
  assert.equal(c.billURL('a b&c'), 'http://api.test/orders/TX1/bill?format=html&token=a%20b%26c');
  assert.ok(!c.billURL().includes('cart-secret'));
});

test('a link session reads the order with its token in the query and no Authorization', async () => {
  session.set('TX0', 'other-cart');
  session.setLink('TX1', 'linktok');
  assert.equal(session.token, null, 'following a link to another order drops that cart token');
  const seen = [];
  const c = new Client('http://api.test', async (url, init) => { seen.push({ url, init }); return new Response('{}', { status: 200 }); });
  await c.order();
  assert.equal(seen[0].url, 'http://api.test/orders/TX1?token=linktok');
  assert.equal(seen[0].init.headers.Authorization, undefined);
  session.set('TX1', 'cart');
  await c.order();
  assert.equal(seen[1].url, 'http://api.test/orders/TX1', 'the cart token wins once the tab has it');
  assert.equal(session.link, null);
});

test('completed is remembered per transaction and forgotten on clear', () => {
  session.set('TX1', 'tok');
  assert.equal(session.completed, false);
  session.markCompleted();
  assert.equal(session.completed, true);
  session.set('TX2', 'tok2');
  assert.equal(session.completed, false, 'another transaction is not complete');
  session.clear();
  assert.equal(session.tx, null);
});
