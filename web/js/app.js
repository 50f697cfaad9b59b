// app is the storefront's entry point: it reads the API address from /config.js, keeps
// the purchase's state, routes the hash (#/shop, #/seats, #/status, …) to the views and
// draws what every page shares: the header, the progress bar and the cart box.

import { Client, ApiError, session } from './api.js';
import { h } from './dom.js';
import { t, initLang, setLang, lang, LANGS, apiText } from './i18n.js';
import { formatMoney, formatRate } from './money.js';
import { ROUTES, stepOfRoute, progress, resolveStep, autodriveTarget } from './flow.js';
import { shopView } from './views/shop.js';
import { requirementsView, seatsView, customerView } from './views/steps.js';
import { reviewView } from './views/review.js';
import { paymentView, statusView, billView } from './views/after.js';

const POST_ROUTES = { payment: 'PAYMENT', status: 'PAYMENT', bill: 'BILL' };

// ctx is what every view works with.
const ctx = {
  client: null,
  shop: null,
  catalog: null,
  items: new Map(),
  cart: null,
  dir: 'forward',
  seq: 0, // bumped on every navigation, so a stale poll or answer stops drawing
  notices: [],
  t,
  money(minor) { return formatMoney(minor, ctx.cart?.currency || ctx.shop?.currency || 'EUR', lang()); },
  rate(bp) { return formatRate(bp, lang()); },
  go(route, dir = 'forward') {
    ctx.dir = dir;
    const target = `#/${route}`;
    if (location.hash === target) render();
    else location.hash = target;
  },
  // flash shows a message on the next page drawn (kind: info, error, warning).
  flash(text, kind = 'info') { ctx.notices.push({ text, kind }); },
  // setCart keeps the latest cart view and redraws the cart box and progress bar.
  setCart(view) {
    ctx.cart = view;
    drawChrome();
  },
  async loadCart() {
    if (!session.tx) { ctx.cart = null; return null; }
    try {
      ctx.cart = await ctx.client.cart();
    } catch (e) {
      if (e instanceof ApiError && e.gone) {
        // A completed order's cart is erased by design: starting again is no news.
        if (!session.completed) ctx.flash(t('cart.expired'), 'warning');
        session.clear();
        ctx.cart = null;
        return null;
      }
      throw e;
    }
    return ctx.cart;
  },
  // fail shows an API error; a cart that is gone sends the buyer back to the shop.
  fail(e) {
    if (e instanceof ApiError && e.gone && session.tx && !POST_ROUTES[parseHash().route]) {
      session.clear();
      ctx.cart = null;
      ctx.flash(t('cart.expired'), 'warning');
      ctx.go('shop', 'back');
      return;
    }
    const msg = e instanceof ApiError && e.status === 0 ? t('error.network') : t('error.generic', { message: apiText(e.message) });
    showNotice(msg, 'error');
  },
  stepNav,
  moved: false, // true after the first page: later pages take the focus to their title
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { route: path || 'shop', params: new URLSearchParams(query) };
}

function showNotice(text, kind = 'info') {
  const box = document.getElementById('notices');
  const el = h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(el);
}

function drawNotices() {
  const box = document.getElementById('notices');
  box.replaceChildren();
  for (const n of ctx.notices.splice(0)) showNotice(n.text, n.kind);
}

// drawChrome redraws the header texts, the progress bar and the cart box.
function drawChrome() {
  const { route } = parseHash();
  document.getElementById('shop-name').textContent = ctx.shop?.name || t('app.title');
  const langBox = document.getElementById('lang');
  langBox.replaceChildren(h('span', { class: 'sr-only' }, t('lang.switch')),
    ...LANGS.map((l) => h('button', {
      type: 'button', lang: l, 'aria-pressed': String(l === lang()),
      onclick: () => { setLang(l); render(); },
    }, t(`lang.${l}`))));
  document.getElementById('testmode').hidden = !ctx.shop?.testMode;

  const current = stepOfRoute(route) || POST_ROUTES[route] || 'SHOP';
  const bar = document.getElementById('progress');
  const steps = ctx.cart?.steps || (ctx.shop?.steps || ['SHOP', 'CUSTOMER', 'ORDER']).map((name) => ({ name, applies: ['SHOP', 'CUSTOMER', 'ORDER'].includes(name), complete: false }));
  const placed = Boolean(POST_ROUTES[route]) || ctx.cart?.placed;
  const entries = progress(steps, current, placed);
  const canJump = !placed && ctx.cart && ctx.cart.lines.length > 0;
  bar.setAttribute('aria-label', t('progress.label'));
  bar.replaceChildren(h('ol', {}, entries.map((e, i) => {
    const label = [h('span', { class: 'num', 'aria-hidden': 'true' }, String(i + 1)), ' ', t(`step.${e.name}`),
      e.state === 'done' ? h('span', { class: 'sr-only' }, ` (${t('progress.done')})`) : null];
    const link = canJump && ROUTES[e.name] && e.state !== 'current';
    return h('li', { class: `step step-${e.state}`, 'aria-current': e.state === 'current' ? 'step' : null },
      link ? h('a', { href: `#/${ROUTES[e.name]}`, onclick: () => { ctx.dir = i < entries.findIndex((x) => x.state === 'current') ? 'back' : 'forward'; } }, label) : h('span', {}, label));
  })));
  bar.style.setProperty('--done', String(entries.filter((e) => e.state === 'done').length / Math.max(1, entries.length - 1)));

  const aside = document.getElementById('cart');
  const pre = Boolean(stepOfRoute(route));
  aside.hidden = !pre;
  if (pre) aside.replaceChildren(cartBox(route === 'shop'));
  // On a phone the cart box is below the page: the header says what it holds and
  // takes the buyer there.
  const link = document.getElementById('cartlink');
  const n = (ctx.cart?.lines || []).reduce((a, l) => a + l.quantity, 0);
  link.hidden = !pre || n === 0;
  link.textContent = n ? `${t('cart.title')} (${n}) · ${ctx.money(ctx.cart.totals.final)}` : '';
  link.onclick = () => {
    const title = document.getElementById('cart-title');
    title.setAttribute('tabindex', '-1');
    title.scrollIntoView();
    title.focus();
  };
}

// cartBox is the cart with its totals and the reset button; on the shop page its
// quantities, codes and lines can be changed.
function cartBox(editable) {
  const c = ctx.cart;
  const box = h('section', { class: 'cartbox', 'aria-labelledby': 'cart-title' }, h('h2', { id: 'cart-title' }, t('cart.title')));
  if (!c || c.lines.length === 0) {
    box.append(h('p', { class: 'empty' }, t('cart.empty')));
    return box;
  }
  const lines = h('ul', { class: 'lines' });
  for (const l of c.lines) {
    const qid = `qty-${l.code}`;
    const item = ctx.items.get(l.code);
    const li = h('li', { class: 'line', dataset: { code: l.code } },
      h('div', { class: 'line-head' }, h('span', { class: 'line-name' }, l.name || l.code), h('span', { class: 'line-total' }, ctx.money(l.total))),
      h('div', { class: 'line-sub' }, `${l.quantity} × ${ctx.money(l.unitPrice)} ${t('catalog.exclTax')}`, l.seats ? ` · ${t('cart.seatsN', { n: l.seats })}` : ''));
    if (editable) {
      const max = item?.maxQuantity || 999;
      li.append(h('form', {
        class: 'line-edit',
        onsubmit: async (e) => {
          e.preventDefault();
          const q = Number(e.target.elements[qid].value);
          try { ctx.setCart(await ctx.client.setLine(l.code, q)); ctx.rerender(); } catch (err) { ctx.fail(err); }
        },
      },
      h('label', { for: qid, class: 'sr-only' }, t('cart.quantity', { name: l.name })),
      h('input', { id: qid, name: qid, type: 'number', min: 0, max, step: 1, value: String(l.quantity), inputmode: 'numeric' }),
      h('button', { type: 'submit' }, t('cart.update')),
      h('button', {
        type: 'button', class: 'link', 'aria-label': t('cart.removeNamed', { name: l.name }),
        onclick: async () => { try { ctx.setCart(await ctx.client.removeLine(l.code)); ctx.rerender(); } catch (err) { ctx.fail(err); } },
      }, t('cart.remove'))));
    }
    lines.append(li);
  }
  box.append(lines);

  const rows = [[t('cart.untaxed'), c.totals.untaxed, 'untaxed']];
  if (c.totals.discount) rows.push([t('cart.discount'), -Math.abs(c.totals.discount), 'discount']);
  for (const tx of c.taxes || []) rows.push([t('cart.tax', { code: tx.code, rate: ctx.rate(tx.rateBp) }), tx.amount, `tax-${tx.code}`]);
  rows.push([t('cart.taxed'), c.totals.taxed, 'taxed']);
  const totals = h('dl', { class: 'totals' }, rows.map(([k, v, cls]) => [h('dt', { class: cls }, k), h('dd', { class: cls }, ctx.money(v))]));
  if (c.discounts?.length) {
    box.append(h('ul', { class: 'discounts' }, c.discounts.map((d) => h('li', {}, `${d.name}${d.code ? ` (${d.code})` : ''}: ${ctx.money(-Math.abs(d.amount))}`))));
  }
  box.append(totals, h('p', { class: 'final' }, h('span', {}, t('cart.final')), ' ', h('strong', { class: 'final-amount' }, ctx.money(c.totals.final))));

  if (editable) {
    const codeForm = h('form', {
      class: 'codes',
      onsubmit: async (e) => {
        e.preventDefault();
        const code = e.target.elements['promo-code'].value.trim();
        if (!code) return;
        try { ctx.setCart(await ctx.client.addCode(code)); ctx.rerender(); } catch (err) { ctx.fail(err); }
      },
    },
    h('label', { for: 'promo-code' }, t('cart.code')),
    h('div', { class: 'inline' }, h('input', { id: 'promo-code', name: 'promo-code', autocomplete: 'off' }), h('button', { type: 'submit' }, t('cart.applyCode'))));
    box.append(codeForm);
    if (c.codes?.length) {
      box.append(h('ul', { class: 'codelist' }, c.codes.map((code) => h('li', {}, code, ' ',
        h('button', {
          type: 'button', class: 'link', 'aria-label': t('cart.removeCode', { code }),
          onclick: async () => { try { ctx.setCart(await ctx.client.removeCode(code)); ctx.rerender(); } catch (err) { ctx.fail(err); } },
        }, '×')))));
    }
  }
  box.append(h('button', {
    type: 'button', class: 'reset danger', id: 'reset',
    onclick: async () => {
      if (!window.confirm(t('cart.resetConfirm'))) return;
      // The API answers the emptied cart (same transaction); if the cart was
      // already gone there is nothing left to clear but the session.
      try {
        ctx.cart = await ctx.client.reset();
      } catch (err) {
        if (!(err instanceof ApiError && err.gone)) { ctx.fail(err); return; }
        session.clear();
        ctx.cart = null;
      }
      ctx.flash(t('cart.resetDone'));
      if (location.hash === '#/shop') render({ keepCart: true });
      else ctx.go('shop', 'back');
    },
  }, t('cart.reset')));
  box.append(h('p', { class: 'txid' }, t('cart.transaction', { tx: c.transactionId })));
  return box;
}

// stepNav draws Back / Continue for a pre-placement step; onNext may save first and
// return false to stay.
function stepNav(step, { onNext, nextLabel, nextDisabled } = {}) {
  const steps = ctx.cart?.steps || [];
  const names = steps.map((s) => s.name);
  const i = names.indexOf(step);
  const prev = [...steps.slice(0, Math.max(0, i))].reverse().find((s) => s.applies);
  const next = steps.slice(i + 1).find((s) => s.applies);
  return h('div', { class: 'stepnav' },
    prev ? h('button', { type: 'button', class: 'secondary', id: 'back', onclick: () => ctx.go(ROUTES[prev.name], 'back') }, `← ${t('nav.back')}`) : h('span'),
    next || onNext ? h('button', {
      type: onNext ? 'submit' : 'button', id: 'next', disabled: nextDisabled,
      onclick: onNext ? null : () => ctx.go(ROUTES[next.name], 'forward'),
    }, `${nextLabel || t('nav.next')} →`) : null);
}

const views = {
  shop: shopView,
  requirements: requirementsView,
  seats: seatsView,
  customer: customerView,
  review: reviewView,
  payment: paymentView,
  status: statusView,
  bill: billView,
};

// prefill adopts a cart made by GET /shop/prefill, then drops the token from the
// address bar and history.
async function prefill(params) {
  const tx = params.get('tx');
  const token = params.get('token');
  if (!tx || !token) {
    ctx.flash(t('prefill.bad'), 'error');
    history.replaceState(null, '', '#/shop');
    return render();
  }
  session.set(tx, token);
  const unknown = (params.get('unknown') || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (unknown.length) ctx.flash(t('prefill.unknown', { codes: unknown.join(', ') }), 'warning');
  let target = 'SHOP';
  if (params.get('autodrive') === '1') {
    try {
      const cart = await ctx.loadCart();
      if (cart) target = autodriveTarget(cart.steps, 'SHOP');
    } catch (e) {
      ctx.fail(e); // stay on the shop page, which shows the error
    }
  }
  history.replaceState(null, '', `#/${ROUTES[target]}`);
  return render();
}

// openLink follows a link from an e-mail or a provider's return (#/order/TX?token=…,
// #/bill/TX?token=…): the read-only token is kept for this tab, dropped from the address
// bar and history, and the order's status or bill is shown.
function openLink(kind, tx, params) {
  const token = params.get('token');
  if (token) session.setLink(tx, token);
  else if (session.tx !== tx) session.clear();
  history.replaceState(null, '', kind === 'bill' ? '#/bill' : '#/status');
  return render();
}

// render draws the page for the current hash.
async function render(opts) {
  const keepCart = opts?.keepCart === true && ctx.cart;
  const seq = ++ctx.seq;
  const { route, params } = parseHash();
  if (route === 'prefill') return prefill(params);
  const link = /^(order|bill)\/([A-Z0-9]{16})$/.exec(route);
  if (link) return openLink(link[1], link[2], params);
  const view = views[route];
  if (!view) { history.replaceState(null, '', '#/shop'); return render(); }
  const main = document.getElementById('view');
  main.setAttribute('aria-busy', 'true');
  try {
    const step = stepOfRoute(route);
    if (step) {
      if (!keepCart) await ctx.loadCart();
      if (seq !== ctx.seq) return;
      if (ctx.cart?.placed) { history.replaceState(null, '', '#/status'); return render(); }
      if (step !== 'SHOP') {
        if (!ctx.cart || ctx.cart.lines.length === 0) { history.replaceState(null, '', '#/shop'); return render(); }
        const shown = resolveStep(ctx.cart.steps, step, ctx.dir);
        if (shown !== step) { history.replaceState(null, '', `#/${ROUTES[shown]}`); return render(); }
      }
    }
    drawChrome();
    drawNotices();
    const node = await view(ctx, params, () => seq === ctx.seq);
    if (seq !== ctx.seq) return;
    main.replaceChildren(node);
    main.dataset.view = location.hash.replace(/^#\/?/, '').split('?')[0];
    const h1 = main.querySelector('h1');
    if (h1) {
      document.title = `${h1.textContent} — ${ctx.shop?.name || t('app.title')}`;
      h1.setAttribute('tabindex', '-1');
      if (ctx.moved) h1.focus({ preventScroll: false });
    }
    ctx.moved = true;
  } catch (e) {
    if (seq !== ctx.seq) return;
    drawChrome();
    drawNotices();
    ctx.fail(e);
  } finally {
    main.removeAttribute('aria-busy');
  }
}
// rerender redraws the current page from the cart view just received.
ctx.rerender = () => render({ keepCart: true });

async function boot() {
  initLang();
  const cfg = window.CHECKOUT_CONFIG || {};
  const main = document.getElementById('view');
  if (!cfg.apiUrl) {
    main.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert' }, t('error.noConfig')));
    return;
  }
  ctx.client = new Client(cfg.apiUrl);
  try {
    const data = await ctx.client.catalog();
    ctx.shop = data.shop;
    ctx.catalog = data.catalog;
    for (const it of data.catalog.items || []) ctx.items.set(it.code, it);
  } catch (e) {
    drawChrome();
    ctx.fail(e);
    return;
  }
  window.addEventListener('hashchange', render);
  await render();
  document.body.dataset.ready = 'true';
}

boot();
