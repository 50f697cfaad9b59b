// The SHOP step: the catalog by category, with add-to-cart and unlock forms.

import { h, slug } from '../dom.js';
import { session } from '../api.js';

const SELLABLE = new Set(['AVAILABLE', 'PROVIDING']);

// shopView draws the catalog; the cart box beside it is drawn by the app.
export async function shopView(ctx) {
  const { t } = ctx;
  const items = (ctx.catalog?.items || []).filter((it) => SELLABLE.has(it.status));
  const cats = [...(ctx.catalog?.categories || [])].sort((a, b) => a.order - b.order);
  const known = new Set(cats.map((c) => c.code));
  const groups = cats.map((c) => ({ code: c.code, name: c.name, items: items.filter((it) => it.category === c.code) }));
  const orphans = items.filter((it) => !known.has(it.category));
  if (orphans.length) groups.push({ code: '_other', name: '', items: orphans });

  const root = h('div', { class: 'shop' }, h('h1', {}, t('catalog.title')));
  if (items.length === 0) root.append(h('p', {}, t('catalog.empty')));
  for (const g of groups.filter((x) => x.items.length)) {
    const gid = `cat-${slug(g.code)}`;
    root.append(h('section', { class: 'category', 'aria-labelledby': g.name ? gid : null },
      g.name ? h('h2', { id: gid }, g.name) : null,
      h('ul', { class: 'items' }, g.items.map((it) => h('li', {}, itemCard(ctx, it))))));
  }
  const hasLines = ctx.cart && ctx.cart.lines.length > 0;
  root.append(ctx.stepNav('SHOP', { nextDisabled: !hasLines }));
  return root;
}

function priceText(ctx, it) {
  const tiers = it.tiers || [];
  if (tiers.length === 0) return '';
  return `${ctx.money(tiers[0].unitPrice)} ${ctx.t('catalog.exclTax')}`;
}

function itemCard(ctx, it) {
  const { t } = ctx;
  const id = `item-${slug(it.code)}`;
  const locked = it.passwordProtected && !(ctx.cart?.unlocked || []).includes(it.code);
  const tiers = it.tiers || [];
  const card = h('article', { class: 'item', id, 'aria-labelledby': `${id}-name`, dataset: { code: it.code } },
    h('h3', { id: `${id}-name` }, it.name),
    it.shortDescription ? h('p', { class: 'short' }, it.shortDescription) : null,
    it.description ? h('details', {}, h('summary', {}, '…'), h('p', { class: 'desc' }, it.description)) : null,
    h('p', { class: 'price' }, priceText(ctx, it)),
    tiers.length > 1 ? h('table', { class: 'tiers' }, h('tbody', {}, tiers.map((tr) => h('tr', {},
      h('th', { scope: 'row' }, tr.upTo ? t('catalog.tierUpTo', { n: tr.upTo }) : t('catalog.tierMore')),
      h('td', {}, `${ctx.money(tr.unitPrice)} ${t('catalog.perUnit')}`))))) : null,
    h('ul', { class: 'notes' },
      it.seats === 'seatsFromQuantity' ? h('li', {}, t('catalog.seats')) : null,
      it.seats === 'oneSeat' ? h('li', {}, t('catalog.oneSeat')) : null,
      it.maxQuantity ? h('li', {}, t('catalog.max', { n: it.maxQuantity })) : null));

  if (locked) {
    const pid = `${id}-pw`;
    card.append(h('form', {
      class: 'unlock',
      onsubmit: async (e) => {
        e.preventDefault();
        const password = e.target.elements[pid].value;
        try {
          if (!session.tx || !ctx.cart) {
            await ctx.client.createCart([]);
            ctx.setCart(await ctx.client.cart());
          }
          ctx.setCart(await ctx.client.unlock(it.code, password));
          ctx.rerender();
        } catch (err) { ctx.fail(err); }
      },
    },
    h('p', {}, t('catalog.locked')),
    h('label', { for: pid }, t('catalog.password')),
    h('div', { class: 'inline' }, h('input', { id: pid, name: pid, type: 'password', autocomplete: 'off', required: true }),
      h('button', { type: 'submit' }, t('catalog.unlock')))));
    return card;
  }
  card.append(h('button', {
    type: 'button', class: 'add', 'aria-label': t('catalog.addNamed', { name: it.name }),
    onclick: async (e) => {
      const btn = e.currentTarget;
      btn.disabled = true;
      try {
        await addOne(ctx, it.code);
        ctx.rerender();
      } catch (err) {
        ctx.fail(err);
      } finally {
        btn.disabled = false;
      }
    },
  }, t('catalog.add')));
  return card;
}

// addOne adds a unit: the first selection creates the cart (and its transaction ID).
async function addOne(ctx, code) {
  if (!session.tx || !ctx.cart) {
    await ctx.client.createCart([{ code, quantity: 1 }]);
    ctx.setCart(await ctx.client.cart());
    return;
  }
  const line = ctx.cart.lines.find((l) => l.code === code);
  ctx.setCart(await ctx.client.setLine(code, (line ? line.quantity : 0) + 1));
}
