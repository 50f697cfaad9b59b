// The ORDER step: the summary to be frozen, the terms to accept and the payment mode.

import { h, showErrors, clearErrors, clearOnEdit } from '../dom.js';
import { ROUTES, stepsOfErrors, splitFieldPath, firstIncomplete } from '../flow.js';
import { ApiError } from '../api.js';
import { apiText } from '../i18n.js';

function person(p) {
  return [`${p.firstName || ''} ${p.lastName || ''}`.trim(), p.email, p.organisation, p.city].filter(Boolean).join(' · ');
}

function address(ctx, c) {
  if (!c) return null;
  const country = c.country ? new Intl.DisplayNames([document.documentElement.lang], { type: 'region' }).of(c.country) : '';
  return h('address', {},
    [c.organisation, c.department, `${c.firstName || ''} ${c.lastName || ''}`.trim(), c.email, c.address, `${c.zip || ''} ${c.city || ''}`.trim(), country, c.vatNumber]
      .filter(Boolean).map((l) => h('span', { class: 'addr-line' }, l)));
}

// missingList lists what stops placement, each with a link to its step.
function missingList(ctx, fields) {
  const { t } = ctx;
  const steps = stepsOfErrors(fields);
  return [
    h('p', {}, t('review.incomplete')),
    h('ul', {}, fields.map((f) => h('li', {}, `${t(`step.${splitFieldPath(f.field).step}`)} — ${f.field.replace(/^[A-Z]+:/, '')}: ${apiText(f.message)}`))),
    h('p', { class: 'fixlinks' }, steps.filter((s) => ROUTES[s]).map((s) => h('a', { href: `#/${ROUTES[s]}`, class: 'button secondary', onclick: () => { ctx.dir = 'back'; } }, t('review.fix', { step: t(`step.${s}`) })))),
  ];
}

export async function reviewView(ctx) {
  const { t } = ctx;
  const r = await ctx.client.review();
  ctx.setCart(r);
  const items = ctx.items;
  const table = h('table', { class: 'review-lines' },
    h('caption', { class: 'sr-only' }, t('review.lines')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('review.item')), h('th', { scope: 'col', class: 'num' }, t('review.qty')),
      h('th', { scope: 'col', class: 'num' }, t('review.unit')), h('th', { scope: 'col', class: 'num' }, t('review.lineTotal')))),
    h('tbody', {}, r.lines.map((l) => h('tr', {}, h('td', {}, l.name || l.code), h('td', { class: 'num' }, String(l.quantity)),
      h('td', { class: 'num' }, ctx.money(l.unitPrice)), h('td', { class: 'num' }, ctx.money(l.total))))),
    h('tfoot', {},
      h('tr', {}, h('th', { scope: 'row', colspan: 3 }, t('cart.untaxed')), h('td', { class: 'num' }, ctx.money(r.totals.untaxed))),
      r.totals.discount ? h('tr', {}, h('th', { scope: 'row', colspan: 3 }, t('cart.discount')), h('td', { class: 'num' }, ctx.money(-Math.abs(r.totals.discount)))) : null,
      (r.taxes || []).map((x) => h('tr', {}, h('th', { scope: 'row', colspan: 3 }, t('cart.tax', { code: x.code, rate: ctx.rate(x.rateBp) })), h('td', { class: 'num' }, ctx.money(x.amount)))),
      h('tr', { class: 'total-final' }, h('th', { scope: 'row', colspan: 3 }, t('cart.final')), h('td', { class: 'num final-amount' }, ctx.money(r.totals.final)))));

  const people = new Map((r.participants || []).map((p) => [p.email, p]));
  const seats = (r.seats || []).length ? h('section', { class: 'review-seats' }, h('h2', {}, t('review.participants')),
    h('ul', {}, r.seats.map((s) => h('li', {}, `${items.get(s.code)?.name || s.code} — ${t(`seats.role.${s.role}`)}: ${person(people.get(s.email) || { email: s.email })}`)))) : null;

  const cu = r.customer;
  const who = cu ? h('section', { class: 'review-customer' }, h('h2', {}, t('review.customer')), address(ctx, cu),
    cu.invoicing ? [h('h3', {}, t('review.invoicing')), address(ctx, cu.invoicing)] : null,
    // Why VAT is charged on a VAT number that VIES could not confirm.
    cu.invoicing?.vatCheck?.message ? h('p', { class: 'notice notice-warning', id: 'vat-check' }, cu.invoicing.vatCheck.message) : null) : null;

  const terms = r.terms || {};
  const termBlocks = [];
  if (terms.shop) termBlocks.push(h('div', { class: 'terms', tabindex: '0', role: 'region', 'aria-label': t('review.terms') }, terms.shop));
  for (const [code, text] of Object.entries(terms.items || {})) {
    const name = items.get(code)?.name || code;
    termBlocks.push(h('h3', {}, t('review.itemTerms', { name })), h('div', { class: 'terms', tabindex: '0', role: 'region', 'aria-label': t('review.itemTerms', { name }) }, text));
  }
  const modes = r.paymodes || [];
  const form = h('form', { class: 'place', novalidate: true },
    h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true }),
    h('section', {}, h('h2', {}, t('review.terms')), termBlocks,
      h('div', { class: 'field field-check' }, h('input', { type: 'checkbox', id: 'accept', name: 'accept', required: true, 'aria-describedby': 'accept-err', dataset: { path: 'acceptTerms' } }),
        h('label', { for: 'accept' }, t('review.accept')), h('p', { class: 'field-error', id: 'accept-err', hidden: true }))),
    h('fieldset', { class: 'paymodes' }, h('legend', {}, t('review.paymode')),
      modes.map((m, i) => h('div', { class: 'field field-check' },
        h('input', { type: 'radio', name: 'paymode', id: `pm-${m}`, value: m, checked: modes.length === 1, dataset: { path: i === 0 ? 'paymode' : undefined }, 'aria-describedby': 'paymode-err' }),
        h('label', { for: `pm-${m}` }, t(`paymode.${m}`) === `paymode.${m}` ? m : t(`paymode.${m}`)))),
      h('p', { class: 'field-error', id: 'paymode-err', hidden: true })),
    ctx.stepNav('ORDER', { onNext: true, nextLabel: t('review.place') }));
  clearOnEdit(form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const locate = (p) => form.querySelector(`[data-path="${p}"]`);
    const local = [];
    if (!form.elements.accept.checked) local.push({ field: 'acceptTerms', message: t('review.mustAccept') });
    const paymode = form.querySelector('input[name="paymode"]:checked')?.value;
    if (!paymode) local.push({ field: 'paymode', message: t('review.mustChoose') });
    if (local.length) { showErrors(form, local, locate, t('error.fields')); return; }
    const btn = form.querySelector('#next');
    btn.disabled = true;
    try {
      await ctx.client.place(paymode);
      ctx.expectMode = paymode;
      ctx.go('payment');
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        const summary = form.querySelector('.form-errors');
        summary.replaceChildren(...missingList(ctx, err.fields));
        summary.hidden = false;
        summary.focus();
      } else {
        ctx.fail(err);
      }
    } finally {
      btn.disabled = false;
    }
  });

  const pending = firstIncomplete(r.steps);
  const warn = pending ? h('div', { class: 'notice notice-warning', role: 'status' },
    missingList(ctx, (r.steps || []).filter((s) => s.applies && !s.complete && s.name !== 'ORDER')
      .flatMap((s) => (s.missing || []).map((m) => ({ field: `${s.name}:${m.field}`, message: m.message }))))) : null;

  return h('div', { class: 'review' }, h('h1', {}, t('review.title')), warn, table, seats, who, form);
}
