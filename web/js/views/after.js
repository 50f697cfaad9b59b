// After placement: the payment mode's page, the order status (polled until the order
// is complete, or failed and retried with another mode) and the bill.

import { h } from '../dom.js';
import { session, ApiError } from '../api.js';
import { formatMoney } from '../money.js';
import { lang } from '../i18n.js';

const FINAL = new Set(['COMPLETE', 'CANCELLED']);
const RETRY = new Set(['FAILED', 'REFUSED']);
// PAST_PAYMENT are the statuses of an order past its payment: paid (checkout.Paid) or
// marked for a refund, which checkout does not count as paid.
const PAST_PAYMENT = new Set(['SOLDOUT', 'COMPLETE', 'PREPROD', 'PARTIAL', 'PAYBACK']);

function modeName(t, m) {
  const s = t(`paymode.${m}`);
  return s === `paymode.${m}` ? m : s;
}

// instructionsOf reads what the buyer must do; the API names it "payment" (the
// contract drafted "instructions"): accept both.
function instructionsOf(o) {
  return o.payment || o.instructions || null;
}

function noOrder(ctx) {
  return h('div', {}, h('h1', {}, ctx.t('status.title')), h('p', {}, ctx.t('error.noOrder')), h('p', {}, h('a', { href: '#/shop' }, ctx.t('nav.shop'))));
}

function amountOf(o) {
  return formatMoney(o.totals?.final ?? 0, o.currency || 'EUR', lang());
}

// offlineBlock shows cheque or transfer instructions.
function offlineBlock(ctx, o) {
  const { t } = ctx;
  const off = instructionsOf(o)?.offline || {};
  const amount = h('p', { class: 'amount' }, t('pay.amount', { amount: amountOf(o) }));
  if (o.paymode === 'check' || (!off.iban && off.address)) {
    return h('div', { class: 'offline offline-check' }, amount,
      h('p', {}, t('pay.check.intro', { payee: off.payee || '' })),
      h('address', { class: 'postal' }, off.address || ''),
      h('dl', {}, h('dt', {}, t('pay.reference')), h('dd', { class: 'reference' }, off.reference || session.tx)),
      h('p', {}, t('pay.offline.after')));
  }
  return h('div', { class: 'offline offline-transfer' }, amount,
    h('p', {}, t('pay.transfer.intro')),
    h('dl', {},
      off.payee ? [h('dt', {}, t('pay.payee')), h('dd', {}, off.payee)] : null,
      h('dt', {}, t('pay.iban')), h('dd', { class: 'iban' }, off.iban || ''),
      h('dt', {}, t('pay.bic')), h('dd', { class: 'bic' }, off.bic || ''),
      h('dt', {}, t('pay.reference')), h('dd', { class: 'reference' }, off.reference || session.tx)),
    h('p', {}, t('pay.offline.after')));
}

// paymentView shows what the chosen mode needs: test buttons, offline instructions,
// or the way to the online provider.
export async function paymentView(ctx, params, alive = () => true) {
  const { t } = ctx;
  if (!session.tx) return noOrder(ctx);
  let o = await ctx.client.order();
  // Right after placement (or a retry) the workflow may not have started the mode
  // yet: wait a little for its instructions rather than guess.
  // After a retry, the old failure shows until the workflow takes the new mode.
  const expect = ctx.expectMode;
  ctx.expectMode = null;
  const starting = (x) => (['PLACED', 'PENDING'].includes(x.status) && !instructionsOf(x))
    || (expect && (RETRY.has(x.status) || (instructionsOf(x) && instructionsOf(x).mode !== expect)));
  for (let i = 0; i < 60 && starting(o) && alive(); i++) {
    await new Promise((r) => setTimeout(r, 250));
    o = await ctx.client.order();
  }
  if (RETRY.has(o.status) || PAST_PAYMENT.has(o.status) || FINAL.has(o.status)) {
    history.replaceState(null, '', '#/status');
    return statusView(ctx, params, alive);
  }
  const ins = instructionsOf(o) || { kind: 'instant' };
  const root = h('div', { class: `payment payment-${ins.kind}` }, h('h1', {}, `${t('pay.title')} — ${modeName(t, o.paymode)}`));
  switch (ins.kind) {
    case 'buttons': {
      root.append(h('p', { class: 'amount' }, t('pay.amount', { amount: amountOf(o) })), h('p', {}, t('pay.test.intro')));
      const act = (action) => async (e) => {
        for (const b of root.querySelectorAll('button')) b.disabled = true;
        try {
          const r = await ctx.client.testPayment(action);
          // A deferred confirmation answers the callback the simulated provider would
          // send; the status page offers to deliver it, as the provider would later.
          ctx.callback = r?.callback ? { tx: session.tx, ...r.callback } : null;
          ctx.go('status');
        } catch (err) {
          ctx.fail(err);
          for (const b of root.querySelectorAll('button')) b.disabled = false;
          e.target.focus();
        }
      };
      root.append(h('div', { class: 'testbuttons' },
        h('button', { type: 'button', id: 'pay-pay', onclick: act('pay') }, t('pay.test.pay')),
        h('button', { type: 'button', id: 'pay-fail', class: 'danger', onclick: act('fail') }, t('pay.test.fail')),
        h('button', { type: 'button', id: 'pay-defer', class: 'secondary', onclick: act('defer') }, t('pay.test.defer'))));
      break;
    }
    case 'offline':
      root.append(offlineBlock(ctx, o), h('p', {}, h('a', { href: '#/status', class: 'button' }, t('pay.follow'))));
      break;
    case 'redirect': {
      const url = ins.redirectUrl;
      root.append(h('p', { role: 'status' }, t('pay.redirect')), h('p', {}, h('a', { href: url, class: 'button', id: 'redirect' }, t('pay.redirectLink'))));
      // Leave once the page is drawn, so the link is there if the browser blocks it.
      setTimeout(() => { if (location.hash.startsWith('#/payment')) location.assign(url); }, 300);
      break;
    }
    case 'form': {
      const f = ins.form || {};
      const form = h('form', { method: (f.method || 'POST').toLowerCase(), action: f.action, id: 'provider-form' },
        (f.fields || []).map((x) => h('input', { type: 'hidden', name: x.name, value: x.value })),
        h('p', { role: 'status' }, t('pay.redirect')),
        h('button', { type: 'submit' }, t('pay.form')));
      root.append(form);
      setTimeout(() => { if (location.hash.startsWith('#/payment')) form.submit(); }, 300);
      break;
    }
    default:
      history.replaceState(null, '', '#/status');
      return statusView(ctx, params, alive);
  }
  return root;
}

// callbackButton delivers the simulated provider's callback to the payment webhook,
// standing in for the provider calling back some time after the buyer left it.
function callbackButton(ctx) {
  const { t } = ctx;
  const cb = ctx.callback;
  const btn = h('button', {
    type: 'button', id: 'send-callback', class: 'secondary',
    onclick: async () => {
      btn.disabled = true;
      try {
        const res = await fetch(cb.url, { method: cb.method || 'POST', headers: cb.headers || {}, body: cb.body });
        if (!res.ok) throw new ApiError(res.status, '', `${res.status} ${(await res.text()).slice(0, 200)}`);
        ctx.callback = null;
        btn.replaceWith(h('p', { role: 'status' }, t('pay.test.callbackSent')));
      } catch (e) {
        btn.disabled = false;
        ctx.fail(e instanceof ApiError ? e : new ApiError(0, 'network', e.message));
      }
    },
  }, t('pay.test.callback'));
  return h('div', { class: 'callback' }, h('p', {}, t('pay.test.deferred')), btn);
}

// statusView polls the order until it is complete, failed, refused or cancelled.
export async function statusView(ctx, _params, alive = () => true) {
  const { t } = ctx;
  if (!session.tx) return noOrder(ctx);
  const root = h('div', { class: 'status' }, h('h1', {}, t('status.title')));
  const line = h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { class: 'status-body' });
  root.append(h('p', { class: 'txid' }, t('cart.transaction', { tx: session.tx })), line, body);

  let delay = 700;
  let shown = '';
  const draw = (o) => {
    root.dataset.status = o.status;
    line.textContent = t('status.label', { status: t(`status.${o.status}`) });
    if (shown === o.status) return;
    shown = o.status;
    body.replaceChildren();
    if (o.status === 'COMPLETE') {
      session.markCompleted();
      body.append(h('p', { class: 'notice notice-info' }, t('status.complete')),
        h('p', {}, h('a', { href: '#/bill', class: 'button', id: 'see-bill' }, t('status.bill'))),
        h('p', {}, h('button', { type: 'button', class: 'secondary', onclick: () => { session.clear(); ctx.cart = null; ctx.go('shop'); } }, t('status.newPurchase'))));
    } else if (RETRY.has(o.status) && !session.token) {
      // A link reads; paying another way needs the cart token of the ordering browser.
      body.append(h('p', { class: 'notice notice-error' }, t('status.failed')), h('p', { class: 'readonly' }, t('link.readOnly')));
    } else if (RETRY.has(o.status)) {
      const modes = o.retryModes || [];
      const form = h('form', {
        class: 'retry',
        onsubmit: async (e) => {
          e.preventDefault();
          const paymode = form.querySelector('input[name="retry"]:checked')?.value;
          if (!paymode) return;
          try {
            await ctx.client.retryPayment(paymode);
            ctx.expectMode = paymode;
            ctx.go('payment');
          } catch (err) { ctx.fail(err); }
        },
      },
      h('fieldset', {}, h('legend', {}, t('review.paymode')),
        modes.map((m, i) => h('div', { class: 'field field-check' },
          h('input', { type: 'radio', name: 'retry', id: `retry-${m}`, value: m, checked: i === 0 }),
          h('label', { for: `retry-${m}` }, modeName(t, m))))),
      h('button', { type: 'submit', id: 'retry' }, t('status.retry')));
      body.append(h('p', { class: 'notice notice-error' }, t('status.failed')), form);
    } else if (o.status === 'CANCELLED' && o.creditNote) {
      // Refunded after it was invoiced: the invoice stays, cancelled by a credit note;
      // both open here, the credit note in a new tab with a read-only link token.
      const cn = o.creditNote;
      body.append(h('div', { class: 'notice notice-info refunded' },
        h('p', {}, t('status.refunded')),
        h('p', {}, t('status.creditNote', { number: cn.number, invoice: cn.credits }))),
      h('p', {},
        h('a', { href: '#/bill', class: 'button', id: 'see-bill' }, t('status.bill')), ' ',
        h('a', { href: ctx.client.creditNoteURL(session.link || o.linkToken), target: '_blank', rel: 'noopener', class: 'button secondary', id: 'see-creditnote' }, t('status.creditNoteOpen'))));
    } else if (o.status === 'CANCELLED') {
      body.append(h('p', {}, t('status.cancelled')));
    } else {
      body.append(h('p', { class: 'waiting' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' ', t('status.waiting')));
      if (instructionsOf(o)?.kind === 'offline') body.append(offlineBlock(ctx, o));
      if (ctx.callback?.tx === session.tx && o.status === 'PENDING') body.append(callbackButton(ctx));
      else if (instructionsOf(o)?.kind === 'buttons' && o.status !== 'SOLDOUT' && session.token) body.append(h('p', {}, h('a', { href: '#/payment' }, t('pay.title'))));
    }
  };

  const first = await ctx.client.order();
  draw(first);
  const poll = async (last) => {
    if (!alive() || FINAL.has(last.status) || RETRY.has(last.status)) return;
    await new Promise((r) => setTimeout(r, delay));
    if (!alive()) return;
    // Offline payments may take days: no need to ask every second.
    delay = instructionsOf(last)?.kind === 'offline' ? 10000 : Math.min(delay * 1.3, 4000);
    try {
      const o = await ctx.client.order();
      if (!alive()) return;
      draw(o);
      poll(o);
    } catch (e) {
      if (!alive()) return;
      if (e instanceof ApiError && e.status === 0) { poll(last); return; }
      ctx.fail(e);
    }
  };
  poll(first);
  return root;
}

// billView shows the order sheet / pro-forma / invoice the API renders, in a frame
// that runs no script.
export async function billView(ctx) {
  const { t } = ctx;
  if (!session.tx) return noOrder(ctx);
  const html = await ctx.client.bill();
  // The new tab cannot send the cart token: it gets a read-only link token.
  const link = session.link || (await ctx.client.order()).linkToken;
  return h('div', { class: 'bill' }, h('h1', {}, t('bill.title')),
    h('p', {}, h('a', { href: ctx.client.billURL(link), target: '_blank', rel: 'noopener', id: 'bill-open' }, t('bill.open'))),
    // allow-same-origin without allow-scripts: nothing in the bill runs, and the page
    // may read the document's height to show it whole.
    h('iframe', {
      class: 'billframe', id: 'billframe', title: t('bill.frame', { tx: session.tx }), sandbox: 'allow-same-origin', srcdoc: html,
      onload: (e) => {
        const doc = e.target.contentDocument;
        if (doc) e.target.style.height = `${doc.documentElement.scrollHeight + 24}px`;
      },
    }),
    h('p', {}, h('a', { href: '#/status' }, t('status.title'))));
}
