// admin is the back-office page (see docs/spec.md#back-office): orders by status and
// date, one order with its lines, payments, products and trace, the operator's actions
// on it (record a cheque or a transfer, cancel, move along an allowed transition), the
// payments to review (flagged late, duplicate, under- or over-paid) and their settling, the
// accountants' export, and catalog and shop editing. Operators sign in with their e-mail and
// password to the shop's user pool (auth.js); every call to /admin/… carries their ID
// token, and the page shows only what their groups may do (GET /admin/me) — the API
// enforces the same rules. No build step: plain ES modules.

import * as auth from './auth.js';
import { STATUSES, allowedFrom, formatTraceLine, formatMoney, parseMoney } from './format.js';

const API_URL = String(window.CHECKOUT_CONFIG?.apiUrl || '').replace(/\/+$/, '');

// me is GET /admin/me for the signed-in operator: {operator, groups, actions}.
let me = null;
const may = (action) => Boolean(me?.actions?.includes(action));

const main = document.getElementById('main');
const notice = document.getElementById('notice');

// ---------------------------------------------------------------- DOM helpers

// h builds an element; attributes starting with "on" are listeners, children are
// nodes or text (always text: data is never parsed as HTML).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map(([label, cls]) => h('th', { class: cls, scope: 'col' }, label)))),
    h('tbody', {}, rows));
}

function badge(status) {
  return h('span', { class: `status ${status}` }, status);
}

function when(iso) {
  if (!iso || iso.startsWith('0001-')) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function say(text, kind = 'ok', fields = []) {
  notice.className = kind;
  notice.replaceChildren(text, fields.length ? h('ul', { class: 'fields' }, fields.map((f) => h('li', {}, `${f.field}: ${f.message}`))) : '');
}

function clearNotice() {
  notice.className = '';
  notice.replaceChildren();
}

// ---------------------------------------------------------------- API

// AdminError is a refused or failed call: the checkout's {"error":{code,message,fields}},
// API Gateway's own {"message"} (code "gateway"), or a network failure.
class AdminError extends Error {
  constructor(status, code, message, fields = []) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

async function api(method, path, body, { accept = 'application/json' } = {}) {
  if (!API_URL || !auth.configured()) throw new AdminError(0, 'config', 'This page is not configured (no /config.js with apiUrl and cognito): open it through the local cloud or the deployed site.');
  const url = API_URL + path;
  const text = body === undefined ? undefined : JSON.stringify(body);
  const send = async (token) => {
    const headers = { Accept: accept, Authorization: `Bearer ${token}` };
    if (text !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(url, { method, headers, body: text, credentials: 'omit', cache: 'no-store' });
    } catch (e) {
      throw new AdminError(0, 'network', `Cannot reach ${API_URL} (${e.message}). If the API is up, its CORS settings must allow this page's origin.`);
    }
  };
  let token = await auth.idToken();
  if (!token) throw new AdminError(401, 'signin', 'Please sign in.');
  let res = await send(token);
  if (res.status === 401) {
    // The token was refused (revoked, or expired in flight): renew it once.
    token = await auth.idToken({ force: true });
    if (!token) throw new AdminError(401, 'signin', 'Your session has ended: please sign in again.');
    res = await send(token);
  }
  const raw = await res.text();
  if (accept !== 'application/json' && res.ok) return raw;
  let data = null;
  try { data = raw ? JSON.parse(raw) : null; } catch { data = null; }
  if (!res.ok) {
    if (data?.error) throw new AdminError(res.status, data.error.code, data.error.message, data.error.fields || []);
    if (res.status === 401) throw new AdminError(401, 'signin', 'Your session has ended: please sign in again.');
    if (data?.message) throw new AdminError(res.status, 'gateway', data.message);
    throw new AdminError(res.status, 'http', raw.slice(0, 300) || `HTTP ${res.status}`);
  }
  return data;
}

// qs renders a query string with its "?", or nothing.
const qs = (params) => (String(params) ? `?${params}` : '');

const txPath = (txid) => `/admin/orders/${encodeURIComponent(txid)}`;

// ---------------------------------------------------------------- views

async function ordersView(params) {
  const status = params.get('status') || '';
  const from = params.get('from') || '';
  const to = params.get('to') || '';
  const q = new URLSearchParams();
  if (status) q.set('status', status);
  if (from) q.set('from', from);
  // A day typed in "to" includes the whole day.
  if (to) q.set('to', `${to}T23:59:59Z`);

  const form = h('form', { class: 'inline', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const next = new URLSearchParams();
    for (const k of ['status', 'from', 'to']) if (f.get(k)) next.set(k, f.get(k));
    location.hash = `#/orders${qs(next)}`;
  } },
  h('label', {}, 'Status', h('select', { name: 'status' }, h('option', { value: '' }, 'any'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)))),
  h('label', {}, 'Placed from (UTC)', h('input', { type: 'date', name: 'from', value: from })),
  h('label', {}, 'to (inclusive)', h('input', { type: 'date', name: 'to', value: to })),
  h('button', { type: 'submit' }, 'Filter'));

  show(h('h1', {}, 'Orders'), h('section', {}, form), h('p', { class: 'hint' }, 'Loading…'));
  const { orders } = await api('GET', `/admin/orders${qs(q)}`);
  const rows = orders.map((o) => h('tr', {},
    h('td', {}, h('a', { href: `#/order/${o.transactionId}` }, o.transactionId)),
    h('td', {}, badge(o.status)),
    h('td', {}, o.paymode || '–'),
    h('td', { class: 'num' }, formatMoney(o.totals?.final, o.currency)),
    h('td', {}, when(o.placedAt)),
    h('td', {}, o.customer?.email || '–')));
  const exportCSV = may('GET orders.csv') ? h('button', { type: 'button', class: 'secondary', 'data-testid': 'export', onclick: async (e) => {
    await busy(e.target, async () => {
      const csv = await api('GET', `/admin/orders${qs(new URLSearchParams([...q, ['format', 'csv']]))}`, undefined, { accept: 'text/csv' });
      const a = h('a', { href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })), download: 'orders.csv' });
      document.body.append(a);
      a.click();
      a.remove();
      say(`Exported ${csv.trimEnd().split('\n').length - 1} orders.`);
    });
  } }, 'Export CSV') : '';
  show(h('h1', {}, 'Orders'), h('section', {}, form, exportCSV),
    h('section', {}, h('p', { class: 'hint', 'data-testid': 'count' }, `${orders.length} order${orders.length === 1 ? '' : 's'}`),
      orders.length ? table([['Transaction'], ['Status'], ['Payment'], ['Total', 'num'], ['Placed'], ['Customer']], rows) : ''));
}

async function orderView(txid) {
  show(h('h1', {}, `Order ${txid}`), h('p', { class: 'hint' }, 'Loading…'));
  const d = await api('GET', txPath(txid));
  const o = d.order;
  const cur = o.currency;
  const m = (v) => formatMoney(v, cur);
  const c = o.customer || {};

  const summary = h('dl', { class: 'summary' },
    h('dt', {}, 'Status'), h('dd', {}, badge(o.status), d.waiting ? ` workflow waiting in ${d.waiting}` : ''),
    h('dt', {}, 'Placed'), h('dd', {}, when(o.placedAt)),
    h('dt', {}, 'Updated'), h('dd', {}, when(o.updatedAt)),
    h('dt', {}, 'Customer'), h('dd', {}, [c.firstName, c.lastName].filter(Boolean).join(' '), c.organisation ? ` (${c.organisation})` : '',
      c.email ? ` <${c.email}>` : '', c.country ? ` · ${c.country}` : ''),
    h('dt', {}, 'Payment mode'), h('dd', {}, o.paymode || '–'),
    h('dt', {}, 'Total'), h('dd', { 'data-testid': 'total' }, m(o.totals?.final),
      ` (untaxed ${m(o.totals?.untaxed)}, discount ${m(o.totals?.discount)}, taxes ${m(o.totals?.taxes)})`),
    o.invoiceNumber ? [h('dt', {}, 'Invoice'), h('dd', {}, o.invoiceNumber)] : '',
    o.creditNoteNumber ? [h('dt', {}, 'Credit note'), h('dd', { 'data-testid': 'credit-note' }, `${o.creditNoteNumber} (cancels ${o.invoiceNumber})`)] : '',
    o.partner ? [h('dt', {}, 'Partner'), h('dd', {}, o.partner)] : '',
    o.codes?.length ? [h('dt', {}, 'Codes'), h('dd', {}, o.codes.join(', '))] : '');

  const lines = table([['Qty', 'num'], ['Code'], ['Item'], ['Unit', 'num'], ['Untaxed', 'num'], ['Discount', 'num'], ['Tax', 'num'], ['Taxed', 'num']],
    (o.lines || []).map((l) => h('tr', {}, h('td', { class: 'num' }, l.quantity), h('td', {}, l.code), h('td', {}, l.name),
      h('td', { class: 'num' }, m(l.unitPrice)), h('td', { class: 'num' }, m(l.untaxed)), h('td', { class: 'num' }, m(l.discount)),
      h('td', { class: 'num' }, m(l.tax)), h('td', { class: 'num' }, m(l.taxed)))));

  const payments = d.payments?.length
    ? table([['At'], ['Mode'], ['Outcome'], ['Amount', 'num'], ['Reference']],
      d.payments.map((p) => h('tr', {}, h('td', {}, when(p.at)), h('td', {}, p.mode), h('td', {}, p.outcome),
        h('td', { class: 'num' }, m(p.amount)), h('td', {}, p.reference || p.eventId || '–'))))
    : h('p', { class: 'hint' }, 'No payment yet.');

  const products = d.products?.length
    ? table([['Reference'], ['Item'], ['Context'], ['Status'], ['Beneficiary'], ['Start'], ['End'], ['Events']],
      d.products.map((p) => h('tr', {}, h('td', {}, p.Reference), h('td', {}, p.ItemCode), h('td', {}, p.Context || '–'),
        h('td', {}, p.Status || '–'), h('td', {}, p.Beneficiary || p.Customer || '–'), h('td', {}, when(p.Start)), h('td', {}, when(p.End)),
        h('td', {}, (p.Events || []).map((e) => `${e.Type} ${when(e.At)}`).join('; ') || '–'))))
    : h('p', { class: 'hint' }, 'No product delivered yet.');

  const tracePre = h('pre', { class: 'trace', 'data-testid': 'trace', tabindex: '0' }, (d.trace || []).map(formatTraceLine).join('\n'));
  const reloadTrace = h('button', { type: 'button', class: 'secondary', onclick: async (e) => {
    await busy(e.target, async () => {
      const t = await api('GET', `${txPath(txid)}/trace`);
      tracePre.textContent = (t.lines || []).map(formatTraceLine).join('\n');
    });
  } }, 'Reload trace');

  show(h('h1', {}, `Order ${o.transactionId} `, badge(o.status)),
    h('p', {}, h('a', { href: '#/orders' }, '← Orders')),
    h('section', {}, summary),
    h('section', {}, h('h2', {}, 'Actions'), actions(o)),
    h('section', {}, h('h2', {}, `Lines (${(o.lines || []).length})`), lines),
    h('section', {}, h('h2', {}, `Payments (${(d.payments || []).length})`), payments),
    d.flags?.length ? h('section', { 'data-testid': 'order-flags' }, h('h2', {}, `Payments to review (${d.flags.length})`),
      flagsTable(d.flags, { onSettled: (msg) => { say(msg); return orderView(txid); }, linkOrder: false })) : '',
    h('section', {}, h('h2', {}, `Products (${(d.products || []).length})`), products),
    h('section', {}, h('h2', {}, `Trace (${(d.trace || []).length} lines, UTC)`), tracePre, h('p', {}, reloadTrace)));
}

// REFUNDABLE are the statuses an order may be refunded from (checkout.Refundable, which
// internal/archtest's pagerules_test.go holds it against).
const REFUNDABLE = ['SOLDOUT', 'PREPROD', 'PARTIAL', 'COMPLETE', 'PAYBACK'];

// actions offers what the order's status allows (docs/spec.md#statuses-and-transitions);
// the API checks again.
function actions(o) {
  const txid = o.transactionId;
  const cur = o.currency;
  const next = allowedFrom(o.status);
  const done = (msg) => { say(msg); return orderView(txid); };
  const boxes = [];

  if (next.includes('SOLDOUT') && may('POST orders/*/payment-received')) {
    const offline = ['check', 'transfer'].includes(o.paymode) ? o.paymode : 'check';
    boxes.push(h('div', {}, h('h3', {}, 'Record an offline payment'),
      h('form', { class: 'inline', 'data-testid': 'record-payment', onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        const amount = parseMoney(f.get('amount'), cur);
        if (amount === null) { say(`Amount: write it like ${formatMoney(o.totals?.final ?? 0, '')} (${cur}).`, 'error'); return; }
        if (amount !== o.totals?.final && !confirm(`${formatMoney(amount, cur)} is not the order's total ${formatMoney(o.totals?.final, cur)}. Send anyway?`)) return;
        await busy(e.submitter, async () => {
          const r = await api('POST', `${txPath(txid)}/payment-received`, { mode: f.get('mode'), amount, reference: String(f.get('reference')).trim() });
          await done(`Payment recorded: ${txid} is ${r.status}.`);
        });
      } },
      h('label', {}, 'Mode', h('select', { name: 'mode' }, ['check', 'transfer'].map((v) => h('option', { value: v, selected: v === offline }, v)))),
      h('label', {}, `Amount (${cur})`, h('input', { name: 'amount', required: true, inputmode: 'decimal', size: 10, value: formatMoney(o.totals?.final ?? 0, '') })),
      h('label', {}, 'Reference', h('input', { name: 'reference', required: true, placeholder: 'CHQ-1234', size: 14 })),
      h('button', { type: 'submit' }, 'Record'))));
  }
  if (next.includes('CANCELLED') && may('POST orders/*/cancel')) {
    boxes.push(h('div', {}, h('h3', {}, 'Cancel'),
      h('button', { type: 'button', class: 'danger', 'data-testid': 'cancel', onclick: async (e) => {
        if (!confirm(`Cancel order ${txid}?`)) return;
        await busy(e.target, async () => {
          const r = await api('POST', `${txPath(txid)}/cancel`, {});
          await done(`${txid} is ${r.status}.`);
        });
      } }, 'Cancel the order')));
  }
  // A paid order (or one marked PAYBACK) is refunded with one action: Stripe, PayPal
  // and the test mode through the provider when no reference is given (the API asks for
  // one when PayPal's refund API is not configured); cheques and transfers with the
  // reference of the refund made.
  if (REFUNDABLE.includes(o.status) && may('POST orders/*/refund')) {
    const viaProvider = ['stripe', 'paypal', 'test'].includes(o.paymode);
    boxes.push(h('div', {}, h('h3', {}, 'Refund'),
      h('form', { class: 'inline', 'data-testid': 'refund', onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        const reference = String(f.get('reference')).trim();
        const how = reference ? `record the refund ${reference}` : `refund through ${o.paymode}`;
        if (!confirm(`Refund ${formatMoney(o.totals?.final, cur)} of order ${txid} (${how})? The order will be CANCELLED${o.invoiceNumber ? ` and invoice ${o.invoiceNumber} credited` : ''}.`)) return;
        await busy(e.submitter, async () => {
          const r = await api('POST', `${txPath(txid)}/refund`, { reference, note: String(f.get('note')).trim() });
          const left = r.toWithdraw?.length ? ` To withdraw by hand: ${r.toWithdraw.join('; ')}.` : '';
          await done(`Refunded: ${txid} is ${r.order.status}, reference ${r.refund.reference}${r.creditNote ? `, credit note ${r.creditNote}` : ''}.${left}`);
        });
      } },
      h('label', {}, 'Reference', h('input', { name: 'reference', required: !viaProvider, size: 18,
        placeholder: viaProvider ? `empty: refund through ${o.paymode}` : 'cheque returned, transfer…' })),
      h('label', {}, 'Note', h('input', { name: 'note', size: 18 })),
      h('button', { type: 'submit', class: 'danger' }, 'Refund'))));
  }
  if (next.length && may('POST orders/*/transition')) {
    boxes.push(h('div', {}, h('h3', {}, 'Move along a transition'),
      h('form', { class: 'inline', 'data-testid': 'transition', onsubmit: async (e) => {
        e.preventDefault();
        const to = new FormData(e.target).get('to');
        if (!confirm(`Move ${txid} from ${o.status} to ${to}?`)) return;
        await busy(e.submitter, async () => {
          const r = await api('POST', `${txPath(txid)}/transition`, { to });
          await done(`${txid} moved to ${r.status}.`);
        });
      } },
      h('label', {}, `From ${o.status} to`, h('select', { name: 'to' }, next.map((s) => h('option', { value: s }, s)))),
      h('button', { type: 'submit', class: 'secondary' }, 'Move'))));
  }
  if (!boxes.length && next.length) return h('p', { class: 'hint', 'data-testid': 'read-only' }, 'Read only: your role does not change orders.');
  return boxes.length ? h('div', { class: 'actions' }, boxes) : h('p', { class: 'hint' }, `No action: ${o.status} is final.`);
}

// REASONS says in words why a payment (or an order) waits for an operator
// (internal/workflow's flag reasons).
const REASONS = {
  late: 'late: paid after the order was cancelled',
  duplicate: 'duplicate: the order was already paid',
  underpayment: 'underpayment: less than the total',
  overpayment: 'overpayment: more than the total',
  currency: 'currency differs from the order',
  stuck: 'stuck: no final status after its wait',
};

// OFFLINE are the modes whose money only the operator can give back: a refund records
// the reference of the cheque returned or the transfer made (the API requires it).
const OFFLINE = ['check', 'transfer'];

// FLAGS_LISTED is how many open flags GET /admin/flags answers at most (newest first).
const FLAGS_LISTED = 100;

// flagsView lists what waits for an operator (GET /admin/flags): payments flagged late,
// duplicate, under- or over-paid, settled here by deliver or refund; and the orders the
// reconciliation found stuck, moved on from their own page.
async function flagsView() {
  show(h('h1', {}, 'Payments to review'), h('p', { class: 'hint' }, 'Loading…'));
  const { flags } = await api('GET', '/admin/flags');
  const settled = (msg) => { say(msg); return flagsView(); };
  show(h('h1', {}, 'Payments to review'),
    h('section', {}, h('p', { class: 'hint', 'data-testid': 'flag-count' }, `${flags.length} open flag${flags.length === 1 ? '' : 's'}, newest first${flags.length >= FLAGS_LISTED ? ` (the API lists the newest ${FLAGS_LISTED}: settle them to see older ones)` : ''}`),
      flags.length ? flagsTable(flags, { onSettled: settled, linkOrder: true }) : h('p', {}, 'Nothing to review: every payment is accounted for.')));
}

// flagsTable renders flags, open or settled, with the settle actions of each open
// payment flag when the operator's role may settle. On the list each row links to its
// order; on an order's page the order column would only repeat the title.
function flagsTable(flags, { onSettled, linkOrder }) {
  const headers = [linkOrder ? ['Order'] : null, ['Reason'], ['Mode'], ['Reference'], ['Amount', 'num'], ['Order status when flagged'], ['When'], ['Settlement']];
  return table(headers.filter(Boolean), flags.map((f) => h('tr', { 'data-testid': 'flag', 'data-txid': f.txid, 'data-key': f.key },
    linkOrder ? h('td', {}, h('a', { href: `#/order/${encodeURIComponent(f.txid)}` }, f.txid)) : '',
    h('td', { 'data-testid': 'flag-reason' }, REASONS[f.reason] || f.reason),
    h('td', {}, f.mode || '–'),
    h('td', {}, f.reference || '–'),
    h('td', { class: 'num' }, f.reason === 'stuck' ? '–' : formatMoney(f.amount, f.currency)),
    h('td', {}, f.orderStatus ? badge(f.orderStatus) : '–'),
    h('td', { class: 'nowrap' }, when(f.at)),
    h('td', { 'data-testid': 'flag-settlement' }, settlement(f, onSettled)))));
}

// settlement is what the operator can do with one flag, or what was done.
function settlement(f, onSettled) {
  if (f.settled) {
    const how = f.settled === 'resolved' ? 'resolved: the order moved on' : `settled: ${f.settled}`;
    return [how, f.settledBy ? ` by ${f.settledBy}` : '', f.settledAt ? `, ${when(f.settledAt)}` : '', f.note ? ` (${f.note})` : ''].join('');
  }
  if (f.reason === 'stuck') return h('span', { class: 'hint' }, 'A stuck order is moved on with its order actions (record a payment, cancel, transition); the next reconciliation closes this flag.');
  if (!may('POST orders/*/settle')) return h('span', { class: 'hint', 'data-testid': 'read-only' }, 'Open (your role does not settle payments).');
  return settleForm(f, onSettled);
}

// settleForm settles one flagged payment: deliver (the order goes on to production and
// billing) or refund (the payment goes back: cheques and transfers by the operator, who
// gives the reference; Stripe, PayPal and the test mode through the provider when the
// reference is left empty). A duplicate has nothing more to deliver (the order was paid
// already): only a refund settles it, so only a refund is offered. The API checks again
// (another operator may have settled the flag meanwhile) and says why not.
function settleForm(f, onSettled) {
  const offline = OFFLINE.includes(f.mode);
  const amount = formatMoney(f.amount, f.currency);
  return h('form', { class: 'inline', 'data-testid': 'settle', 'aria-label': `Settle the ${f.reason} payment ${f.reference || f.key} of ${f.txid}`, onsubmit: async (e) => {
    e.preventDefault();
    const action = e.submitter?.value;
    const fd = new FormData(e.target);
    const reference = String(fd.get('reference')).trim();
    const note = String(fd.get('note')).trim();
    if (action === 'refund' && offline && !reference) { say(`Refund: give the reference of the ${f.mode} refund made.`, 'error'); return; }
    const what = action === 'deliver'
      ? `Deliver order ${f.txid} for the ${f.reason} payment of ${amount}? Production and billing go on.`
      : `Refund the ${f.reason} payment of ${amount} on order ${f.txid} (${reference ? `record the refund ${reference}` : `refund through ${f.mode}`})?`;
    if (!confirm(what)) return;
    await busy(e.submitter, async () => {
      const o = await api('POST', `${txPath(f.txid)}/settle`, { action, key: f.key, reference: action === 'refund' ? reference : '', note });
      await onSettled(`Settled: ${f.reason} payment ${f.reference || f.key} of ${f.txid} ${action === 'deliver' ? 'delivered' : 'refunded'}; the order is ${o.status}.`);
    });
  } },
  h('label', {}, 'Refund reference', h('input', { name: 'reference', size: 14,
    placeholder: offline ? 'required to refund' : `empty: through ${f.mode}` })),
  h('label', {}, 'Note', h('input', { name: 'note', size: 12 })),
  f.reason === 'duplicate' ? '' : h('button', { type: 'submit', name: 'action', value: 'deliver' }, 'Deliver'),
  h('button', { type: 'submit', name: 'action', value: 'refund', class: 'danger' }, 'Refund'));
}

async function catalogView(code) {
  show(h('h1', {}, 'Catalog'), h('p', { class: 'hint' }, 'Loading…'));
  const cat = await api('GET', '/admin/catalog');
  const items = cat.items || [];
  const item = code === '+' ? newItem() : items.find((i) => i.code === code);
  const rows = items.map((i) => h('tr', {},
    h('td', {}, h('a', { href: `#/catalog/${encodeURIComponent(i.code)}` }, i.code)),
    h('td', {}, i.name), h('td', {}, i.status), h('td', {}, i.handler || '–'),
    h('td', { class: 'num' }, i.tiers?.length ? formatMoney(i.tiers[0].unitPrice, '') : '–')));
  const list = h('section', {}, h('p', {}, `${items.length} items in catalog ${cat.id || ''} · `, h('a', { href: '#/catalog/+' }, 'New item')),
    table([['Code'], ['Name'], ['Status'], ['Handler'], ['From (minor units)', 'num']], rows));
  if (!code) { show(h('h1', {}, 'Catalog'), list); return; }
  if (!item) { say(`No item ${code} in the catalog.`, 'error'); show(h('h1', {}, 'Catalog'), list); return; }
  show(h('h1', {}, 'Catalog'), jsonEditor(`Item ${item.code || '(new)'}`, item, async (v) => {
    if (!v.code) throw new AdminError(0, 'invalid', 'The item needs a "code".');
    const saved = await api('PUT', `/admin/catalog/items/${encodeURIComponent(v.code)}`, v);
    say(`Item ${saved.code} saved.`);
    location.hash = `#/catalog/${encodeURIComponent(saved.code)}`;
  }, 'Prices are in minor units (cents). A password-protected item keeps no password here: the API never returns it.'), list);
}

function newItem() {
  return { code: '', name: '', status: 'active', tiers: [{ upTo: 0, unitPrice: 0 }], taxCode: '', maxQuantity: 1, handler: '', handlerParams: {} };
}

async function shopView() {
  show(h('h1', {}, 'Shop'), h('p', { class: 'hint' }, 'Loading…'));
  const shop = await api('GET', '/admin/shop');
  show(h('h1', {}, 'Shop'), jsonEditor(`Shop ${shop.id}`, shop, async (v) => {
    const saved = await api('PUT', '/admin/shop', v);
    say(`Shop ${saved.id} saved.`);
    await shopView();
  }, 'Changes apply to new carts.'));
}

// jsonEditor edits a document as JSON: parse errors stay in the page, API errors are
// shown with their fields.
function jsonEditor(title, doc, save, hint) {
  const area = h('textarea', { spellcheck: 'false', 'aria-label': `${title} as JSON`, 'data-testid': 'json' });
  area.value = JSON.stringify(doc, null, 2);
  return h('section', {}, h('h2', {}, title), hint ? h('p', { class: 'hint' }, hint) : '',
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      let v;
      try { v = JSON.parse(area.value); } catch (err) { say(`Not valid JSON: ${err.message}`, 'error'); return; }
      await busy(e.submitter, () => save(v));
    } }, area, h('p', {}, h('button', { type: 'submit' }, 'Save'))));
}

// signinView signs in with e-mail and password, then answers what the pool asks: a
// new password (first sign-in with a temporary one) or a code from the authenticator.
function signinView() {
  const signedIn = auth.session();
  if (signedIn) { accountView(); return; }
  const finish = async (r) => {
    if (r.challenge) { challengeView(r.challenge); return; }
    me = null;
    await go('#/orders');
    say(`Signed in as ${r.session.email}.`);
  };
  show(h('h1', {}, 'Sign in'),
    h('section', {},
      h('p', { class: 'hint' }, 'Operators sign in with the e-mail and password of their back-office account.'),
      h('form', { class: 'stack', 'data-testid': 'signin', onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        await busy(e.submitter, async () => finish(await auth.signIn(String(f.get('email')).trim(), String(f.get('password')))));
      } },
      h('label', {}, 'E-mail', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true })),
      h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
      h('p', {}, h('button', { type: 'submit' }, 'Sign in'), ' ', h('a', { href: '#/reset' }, 'Forgot your password?')))));

  function challengeView(ch) {
    const newPassword = ch.name === 'NEW_PASSWORD_REQUIRED';
    if (!newPassword && ch.name !== 'SOFTWARE_TOKEN_MFA') { say(`The sign-in asks for ${ch.name}, which this page does not handle.`, 'error'); return; }
    show(h('h1', {}, newPassword ? 'Choose your password' : 'Two-factor code'),
      h('section', {}, h('form', { class: 'stack', 'data-testid': 'challenge', onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        if (newPassword && f.get('password') !== f.get('again')) { say('The two passwords differ.', 'error'); return; }
        const responses = newPassword ? { NEW_PASSWORD: String(f.get('password')) } : { SOFTWARE_TOKEN_MFA_CODE: String(f.get('code')).trim() };
        await busy(e.submitter, async () => finish(await auth.answer(ch, responses)));
      } },
      newPassword
        ? [h('label', {}, 'New password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 })),
          h('label', {}, 'Again', h('input', { name: 'again', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 }))]
        : h('label', {}, 'Code from your authenticator app', h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, pattern: '[0-9]{6}' })),
      h('p', {}, h('button', { type: 'submit' }, 'Continue'), ' ',
        h('a', { href: '#/signin', onclick: (e) => { e.preventDefault(); clearNotice(); signinView(); } }, 'Start again')))));
  }
}

// resetView: the pool e-mails a code, the operator sets a new password with it.
function resetView() {
  show(h('h1', {}, 'Reset your password'),
    h('section', {}, h('form', { class: 'stack', 'data-testid': 'reset', onsubmit: async (e) => {
      e.preventDefault();
      const email = String(new FormData(e.target).get('email')).trim();
      await busy(e.submitter, async () => {
        await auth.forgotPassword(email);
        say('If the account exists, a code was sent to its e-mail address.');
        show(h('h1', {}, 'Reset your password'), h('section', {}, h('form', { class: 'stack', 'data-testid': 'reset-confirm', onsubmit: async (ev) => {
          ev.preventDefault();
          const f = new FormData(ev.target);
          await busy(ev.submitter, async () => {
            await auth.confirmForgotPassword(email, String(f.get('code')).trim(), String(f.get('password')));
            await go('#/signin');
            say('Password changed: sign in with it.');
          });
        } },
        h('label', {}, 'Code', h('input', { name: 'code', required: true, autocomplete: 'one-time-code' })),
        h('label', {}, 'New password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 })),
        h('p', {}, h('button', { type: 'submit' }, 'Change the password')))));
      });
    } },
    h('label', {}, 'E-mail', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true })),
    h('p', {}, h('button', { type: 'submit' }, 'Send me a code')))));
}

// accountView: who is signed in, their groups, two-factor set-up, sign out.
function accountView() {
  const s = auth.session();
  const totp = h('div', {}, h('button', { type: 'button', class: 'secondary', 'data-testid': 'totp-start', onclick: async (e) => {
    await busy(e.target, async () => {
      const secret = await auth.startTotp();
      const uri = `otpauth://totp/${encodeURIComponent(`Back office:${s.email}`)}?secret=${secret}&issuer=${encodeURIComponent('Back office')}`;
      totp.replaceChildren(h('p', {}, 'Add this key to your authenticator app (or the link, on a phone): ', h('code', { 'data-testid': 'totp-secret' }, secret)),
        h('p', {}, h('a', { href: uri }, 'otpauth link')),
        h('form', { class: 'inline', onsubmit: async (ev) => {
          ev.preventDefault();
          await busy(ev.submitter, async () => {
            await auth.confirmTotp(String(new FormData(ev.target).get('code')).trim());
            say('Two-factor sign-in is on: the next sign-in asks for a code.');
            accountView();
          });
        } }, h('label', {}, 'Code it shows', h('input', { name: 'code', inputmode: 'numeric', required: true, pattern: '[0-9]{6}' })),
        h('button', { type: 'submit' }, 'Turn on')));
    });
  } }, 'Set up an authenticator app'));
  show(h('h1', {}, 'Account'),
    h('section', {}, h('dl', { class: 'summary' },
      h('dt', {}, 'Signed in as'), h('dd', { 'data-testid': 'account-email' }, me?.operator || s?.email || '–'),
      h('dt', {}, 'Role'), h('dd', { 'data-testid': 'account-groups' }, (me?.groups || []).join(', ') || '–'))),
    h('section', {}, h('h2', {}, 'Two-factor sign-in'), totp),
    h('section', {}, h('button', { type: 'button', 'data-testid': 'signout', onclick: async () => {
      await auth.signOut();
      me = null;
      await go('#/signin');
      say('Signed out.');
    } }, 'Sign out')));
}

// ---------------------------------------------------------------- plumbing

// go shows another view without the hashchange handler clearing the notice the caller
// is about to write.
async function go(hash) {
  history.replaceState(null, '', hash);
  clearNotice();
  await route();
}

async function busy(button, fn) {
  if (button) button.disabled = true;
  try {
    await fn();
  } catch (e) {
    fail(e);
  } finally {
    if (button) button.disabled = false;
  }
}

function fail(e) {
  if (e instanceof auth.AuthError) {
    say(e.type === 'network' ? e.message : `${e.message} (${e.type})`, 'error');
  } else if (e instanceof AdminError) {
    say(e.code && e.status ? `${e.status} ${e.code}: ${e.message}` : e.message, 'error', e.fields);
  } else {
    say(`Unexpected error: ${e.message}`, 'error');
    console.error(e);
  }
}

function drawWho() {
  const s = auth.session();
  document.getElementById('who').textContent = s ? `${me?.operator || s.email}${me?.groups?.length ? ` (${me.groups.join(', ')})` : ''}` : 'signed out';
  // Sections the operator's role cannot use are not offered (the API refuses them too).
  const visible = { orders: Boolean(s), flags: may('GET flags'), catalog: may('GET catalog'), shop: may('GET shop'), signin: true };
  for (const a of document.querySelectorAll('[data-nav]')) a.hidden = !visible[a.dataset.nav];
  const account = document.querySelector('[data-nav=signin]');
  if (account) account.textContent = s ? 'Account' : 'Sign in';
}

async function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  const signedIn = Boolean(auth.session());
  let section = parts[0] || (signedIn ? 'orders' : 'signin');
  if (!signedIn && section !== 'reset') section = 'signin';
  if (signedIn && !me) {
    try { me = await api('GET', '/admin/me'); } catch (e) { if (e.code === 'signin') { me = null; section = 'signin'; } else fail(e); }
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section || (section === 'order' && a.dataset.nav === 'orders')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  drawWho();
  try {
    switch (section) {
      case 'orders': await ordersView(new URLSearchParams(query)); break;
      case 'order': await orderView(parts[1] || ''); break;
      case 'flags': await flagsView(); break;
      case 'catalog': await catalogView(parts[1] || ''); break;
      case 'shop': await shopView(); break;
      case 'signin': signinView(); break;
      case 'reset': resetView(); break;
      default: location.hash = '#/orders';
    }
  } catch (e) {
    fail(e);
    if (e instanceof AdminError && e.code === 'signin') { me = null; drawWho(); signinView(); }
  }
}

window.addEventListener('hashchange', () => { clearNotice(); route(); });
route();
