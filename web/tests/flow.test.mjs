// Unit tests of the storefront's pure rules (no browser): step navigation with skips
// in both directions, autodrive, error addresses, the seats request, money and i18n.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextStep, prevStep, resolveStep, autodriveTarget, progress, splitFieldPath, stepsOfErrors, seatsPayload, firstIncomplete } from '../js/flow.js';
import { formatMoney, toDecimalString, formatRate } from '../js/money.js';
import { pickLang, MESSAGES, t, format } from '../js/i18n.js';

const S = (name, applies, complete) => ({ name, applies, complete });
// A cart with no required data and no seats: PURCHASEREQUIS and USERS are skipped.
const simple = [S('SHOP', true, true), S('PURCHASEREQUIS', false, true), S('USERS', false, true), S('CUSTOMER', true, false), S('ORDER', true, true)];
// A cart needing everything, all filled but the customer.
const full = [S('SHOP', true, true), S('PURCHASEREQUIS', true, true), S('USERS', true, true), S('CUSTOMER', true, false), S('ORDER', true, true)];
// A shop that asks the customer first.
const custFirst = [S('SHOP', true, true), S('CUSTOMER', true, true), S('USERS', true, false), S('PURCHASEREQUIS', false, true), S('ORDER', true, true)];

test('next and previous steps skip what does not apply, both ways', () => {
  const cases = [
    { steps: simple, at: 'SHOP', next: 'CUSTOMER', prev: null },
    { steps: simple, at: 'CUSTOMER', next: 'ORDER', prev: 'SHOP' },
    { steps: simple, at: 'ORDER', next: null, prev: 'CUSTOMER' },
    { steps: full, at: 'SHOP', next: 'PURCHASEREQUIS', prev: null },
    { steps: full, at: 'USERS', next: 'CUSTOMER', prev: 'PURCHASEREQUIS' },
    { steps: custFirst, at: 'USERS', next: 'ORDER', prev: 'CUSTOMER' },
    { steps: custFirst, at: 'ORDER', next: null, prev: 'USERS' },
    // A step that stopped applying (its item was removed) still knows its neighbours.
    { steps: simple, at: 'USERS', next: 'CUSTOMER', prev: 'SHOP' },
    { steps: simple, at: 'NOPE', next: null, prev: null },
  ];
  for (const c of cases) {
    assert.equal(nextStep(c.steps, c.at), c.next, `next of ${c.at}`);
    assert.equal(prevStep(c.steps, c.at), c.prev, `prev of ${c.at}`);
  }
});

test('asking for a skipped step lands on its neighbour in the direction of travel', () => {
  assert.equal(resolveStep(simple, 'USERS', 'forward'), 'CUSTOMER');
  assert.equal(resolveStep(simple, 'USERS', 'back'), 'SHOP');
  assert.equal(resolveStep(simple, 'PURCHASEREQUIS', 'back'), 'SHOP');
  assert.equal(resolveStep(full, 'USERS', 'back'), 'USERS');
  assert.equal(resolveStep(custFirst, 'PURCHASEREQUIS', 'forward'), 'ORDER');
});

test('autodrive stops at the first step needing input, never past ORDER', () => {
  assert.equal(autodriveTarget(simple), 'CUSTOMER');
  assert.equal(autodriveTarget(full), 'CUSTOMER');
  assert.equal(autodriveTarget(custFirst), 'USERS');
  const done = simple.map((s) => ({ ...s, complete: true }));
  assert.equal(autodriveTarget(done), 'ORDER');
  const empty = [S('SHOP', true, false), ...simple.slice(1)];
  assert.equal(autodriveTarget(empty), 'SHOP');
});

test('firstIncomplete names the first step to finish before the review', () => {
  assert.equal(firstIncomplete(simple), 'CUSTOMER');
  assert.equal(firstIncomplete(custFirst), 'USERS');
  assert.equal(firstIncomplete(simple.map((s) => ({ ...s, complete: true }))), null);
});

test('the progress bar lists applicable steps then payment and bill', () => {
  const p = progress(simple, 'CUSTOMER', false);
  assert.deepEqual(p.map((e) => `${e.name}:${e.state}`), ['SHOP:done', 'CUSTOMER:current', 'ORDER:todo', 'PAYMENT:todo', 'BILL:todo']);
  const after = progress(full, 'PAYMENT', true);
  assert.deepEqual(after.map((e) => e.state), ['done', 'done', 'done', 'done', 'done', 'current', 'todo']);
});

test('API field addresses are split into step, item, unit and field', () => {
  const cases = [
    ['COURSE-SPACE[1].shortname', { step: null, code: 'COURSE-SPACE', unit: 1, field: 'shortname' }],
    ['participants[0].email', { step: null, code: 'participants', unit: 0, field: 'email' }],
    ['USERS:SEC-201-SEATS.student', { step: 'USERS', code: 'SEC-201-SEATS', unit: null, field: 'student' }],
    ['CUSTOMER:customer.invoicing.city', { step: 'CUSTOMER', code: 'customer.invoicing', unit: null, field: 'city' }],
    ['email', { step: null, code: null, unit: null, field: 'email' }],
  ];
  for (const [path, want] of cases) assert.deepEqual(splitFieldPath(path), want, path);
  assert.deepEqual(stepsOfErrors([{ field: 'USERS:a.student' }, { field: 'CUSTOMER:customer' }, { field: 'USERS:b.student' }, { field: 'acceptTerms' }]), ['USERS', 'CUSTOMER']);
});

test('seat blocks become participants keyed by e-mail, with indexes back to the blocks', () => {
  const blocks = [
    { code: 'S', role: 'student', person: { email: 'Ann@Example.com ', lastName: 'Lee', firstName: 'Ann', city: 'Lyon' } },
    { code: 'S', role: 'student', person: { email: '', lastName: '', firstName: '', city: '' } },
    { code: 'S', role: 'supervisor', person: { email: 'bob@example.com', lastName: 'Ray', firstName: 'Bob', city: 'Nice', phone: '+33 1' } },
    { code: 'T', role: 'student', person: { email: 'ann@example.com', lastName: 'Lee', firstName: 'Ann', city: 'Lyon' } },
  ];
  const { body, participantBlock, seatBlock } = seatsPayload(blocks);
  assert.deepEqual(body.participants, [
    { email: 'ann@example.com', lastName: 'Lee', firstName: 'Ann', city: 'Lyon' },
    { email: 'bob@example.com', lastName: 'Ray', firstName: 'Bob', city: 'Nice', phone: '+33 1' },
  ]);
  assert.deepEqual(body.seats, [
    { code: 'S', role: 'student', email: 'ann@example.com' },
    { code: 'S', role: 'supervisor', email: 'bob@example.com' },
    { code: 'T', role: 'student', email: 'ann@example.com' },
  ]);
  assert.deepEqual(participantBlock, [0, 2]);
  assert.deepEqual(seatBlock, [0, 2, 3]);
});

test('money is formatted from integer minor units without float error', () => {
  const nb = (s) => s.replace(/[\u00a0\u202f]/g, ' ');
  const cases = [
    [1999, 'EUR', 'en', '€19.99'],
    [1999, 'EUR', 'fr', '19,99 €'],
    [-500, 'EUR', 'en', '-€5.00'],
    [5, 'EUR', 'en', '€0.05'],
    [0, 'EUR', 'fr', '0,00 €'],
    [123456789012345, 'EUR', 'en', '€1,234,567,890,123.45'],
    [1500, 'JPY', 'en', '¥1,500'],
    [1234, 'KWD', 'en', 'KWD 1.234'],
    // pricing's minor units, not the browser's display digits (Intl gives HUF and IQD none).
    [123456, 'HUF', 'en', 'HUF 1,234.56'],
    [123456, 'IQD', 'en', 'IQD 123.456'],
  ];
  for (const [minor, cur, lang, want] of cases) assert.equal(nb(formatMoney(minor, cur, lang)), want, `${minor} ${cur} ${lang}`);
  assert.equal(toDecimalString(7, 2), '0.07');
  assert.equal(nb(formatRate(2000, 'fr')), '20 %');
  assert.equal(formatRate(550, 'en'), '5.5%');
  assert.throws(() => formatMoney(19.99, 'EUR', 'en'), /integer number of minor units/);
});

test('the language comes from the choice, then the browser, then English', () => {
  assert.equal(pickLang('fr', ['en-US']), 'fr');
  assert.equal(pickLang(null, ['de-DE', 'fr-CA', 'en']), 'fr');
  assert.equal(pickLang('xx', ['de']), 'en');
  assert.equal(pickLang(null, []), 'en');
});

test('every English text has a French translation with the same placeholders', () => {
  const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  for (const [k, en] of Object.entries(MESSAGES.en)) {
    assert.ok(k in MESSAGES.fr, `missing French text for ${k}`);
    assert.equal(ph(MESSAGES.fr[k]), ph(en), `placeholders of ${k}`);
  }
  assert.deepEqual(Object.keys(MESSAGES.fr).filter((k) => !(k in MESSAGES.en)), []);
  assert.equal(t('cart.reset', {}, 'fr'), 'Réinitialiser');
  assert.equal(format('a {x} {y}', { x: 1 }), 'a 1 {y}');
});
