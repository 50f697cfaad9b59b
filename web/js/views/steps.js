// The data-collecting steps: PURCHASEREQUIS (per-unit data), USERS (seats) and
// CUSTOMER (buyer and invoicing). Each saves through the API and shows the API's
// per-field errors — the server is the judge of what is valid.

import { h, field, slug, showErrors, clearErrors, clearOnEdit, byPath } from '../dom.js';
import { ROUTES, nextStep, seatsPayload } from '../flow.js';
import { ApiError } from '../api.js';
import { lang } from '../i18n.js';

// saveAndGo stores the answered cart view, then moves on if the step is complete or
// shows what is missing (the step's missing fields, mapped by fix).
async function saveAndGo(ctx, form, step, save, locate, fix = (f) => f) {
  clearErrors(form);
  const submit = form.querySelector('button[type="submit"]');
  if (submit) submit.disabled = true;
  try {
    const view = await save();
    ctx.setCart(view);
    const st = (view.steps || []).find((s) => s.name === step);
    if (st && st.applies && !st.complete) {
      showErrors(form, (st.missing || []).map(fix), locate, ctx.t('error.fields'));
      return;
    }
    const nx = nextStep(view.steps, step);
    if (nx) ctx.go(ROUTES[nx], 'forward');
  } catch (e) {
    if (e instanceof ApiError && e.fields.length) {
      showErrors(form, e.fields.map(fix), locate, ctx.t('error.fields'));
    } else {
      ctx.fail(e);
    }
  } finally {
    if (submit) submit.disabled = false;
  }
}

function formShell(ctx, title, intro, step, onsubmit, body) {
  const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); onsubmit(form); } },
    h('div', { class: 'form-errors', role: 'alert', tabindex: '-1', hidden: true }),
    body,
    ctx.stepNav(step, { onNext: true }));
  clearOnEdit(form);
  return h('div', { class: `step-page step-${step.toLowerCase()}` }, h('h1', {}, title), intro ? h('p', { class: 'intro' }, intro) : null, form);
}

// requirementsView asks each field of each unit of every line that needs data.
export async function requirementsView(ctx) {
  const { t } = ctx;
  const cart = ctx.cart;
  const blocks = [];
  for (const line of cart.lines) {
    const it = ctx.items.get(line.code);
    if (!it?.requiredData?.length) continue;
    const saved = cart.requirements?.[line.code] || [];
    for (let u = 1; u <= line.quantity; u++) {
      const vals = saved[u - 1] || {};
      blocks.push(h('fieldset', { class: 'unit', dataset: { code: line.code, unit: String(u) } },
        h('legend', {}, t('req.unit', { name: it.name, i: u, n: line.quantity })),
        it.requiredData.map((rf) => {
          const id = `req-${slug(line.code)}-${u}-${slug(rf.field)}`;
          const type = ['textarea', 'checkbox', 'select'].includes(rf.type) ? rf.type : 'text';
          const options = type === 'select' ? [{ value: '', label: t('req.choose') }, ...(rf.options || []).map((o) => ({ value: o, label: o }))] : undefined;
          return field({ id, label: rf.label || rf.field, path: `${line.code}[${u}].${rf.field}`, type, value: vals[rf.field] ?? '', required: rf.required, options, pattern: type === 'text' && rf.pattern ? rf.pattern : undefined });
        })));
    }
  }
  const page = formShell(ctx, t('req.title'), t('req.intro'), 'PURCHASEREQUIS', (form) => {
    const requirements = {};
    for (const fs of form.querySelectorAll('fieldset.unit')) {
      const code = fs.dataset.code;
      const vals = {};
      for (const input of fs.querySelectorAll('[data-path]')) {
        const name = input.dataset.path.replace(/^.*\]\./, '');
        vals[name] = input.type === 'checkbox' ? String(input.checked) : input.value.trim();
      }
      (requirements[code] ||= []).push(vals);
    }
    return saveAndGo(ctx, form, 'PURCHASEREQUIS', () => ctx.client.setRequirements(requirements), byPath(form));
  }, blocks);
  return page;
}

const PERSON_FIELDS = [
  { name: 'email', type: 'email', required: true, autocomplete: 'email' },
  { name: 'lastName', required: true, autocomplete: 'family-name' },
  { name: 'firstName', required: true, autocomplete: 'given-name' },
  { name: 'city', required: true, autocomplete: 'address-level2' },
  { name: 'phone', type: 'tel', autocomplete: 'tel' },
  { name: 'organisation', autocomplete: 'organization' },
];

// seatsView asks one participant per seat bought (role student) and one per other
// role the item asks for (e.g. a supervisor).
export async function seatsView(ctx) {
  const { t } = ctx;
  const cart = ctx.cart;
  const people = new Map((cart.participants || []).map((p) => [p.email, p]));
  const sections = [];
  let b = 0;
  for (const line of cart.lines) {
    if (!line.seats) continue;
    const it = ctx.items.get(line.code);
    const roles = ['student', ...(it?.seatRoles || [])];
    const sec = h('section', { class: 'seatline', dataset: { code: line.code } },
      h('h2', {}, t('seats.line', { name: line.name || line.code, n: line.seats })));
    for (const role of roles) {
      const assigned = (cart.seats || []).filter((s) => s.code === line.code && s.role === role);
      const count = role === 'student' ? line.seats : 1;
      sec.append(h('p', { class: 'field-error', dataset: { for: `${line.code}.${role}` }, hidden: true, role: 'status' }));
      for (let i = 0; i < count; i++) {
        const p = people.get(assigned[i]?.email) || {};
        const roleName = t(`seats.role.${role}`) === `seats.role.${role}` ? role : t(`seats.role.${role}`);
        const legend = role === 'student' ? `${t('seats.seat', { i: i + 1 })} — ${roleName}` : roleName;
        const bid = `seat-${b}`;
        sec.append(h('fieldset', { class: 'seat', dataset: { code: line.code, role, block: String(b) } },
          h('legend', {}, legend),
          h('div', { class: 'grid' }, PERSON_FIELDS.map((f) => field({
            id: `${bid}-${f.name}`, label: t(`field.${f.name}`), path: `block${b}.${f.name}`, type: f.type || 'text',
            value: p[f.name] || '', required: f.required, autocomplete: f.autocomplete,
          })))));
        b++;
      }
    }
    sections.push(sec);
  }
  return formShell(ctx, t('seats.title'), t('seats.intro'), 'USERS', (form) => {
    const blocks = [...form.querySelectorAll('fieldset.seat')].map((fs) => {
      const person = {};
      for (const input of fs.querySelectorAll('[data-path]')) person[input.dataset.path.replace(/^block\d+\./, '')] = input.value.trim();
      return { code: fs.dataset.code, role: fs.dataset.role, person };
    });
    const { body, participantBlock, seatBlock } = seatsPayload(blocks);
    // The API addresses participants[i] and seats[i] of what was sent; map them back
    // to the block the buyer typed them in.
    const locate = (path) => {
      let m = /^participants\[(\d+)\]\.(\w+)$/.exec(path);
      if (m && participantBlock[+m[1]] !== undefined) return form.querySelector(`[data-path="block${participantBlock[+m[1]]}.${m[2]}"]`);
      m = /^seats\[(\d+)\]\.(\w+)$/.exec(path);
      if (m && seatBlock[+m[1]] !== undefined) return form.querySelector(`[data-path="block${seatBlock[+m[1]]}.email"]`);
      return null;
    };
    return saveAndGo(ctx, form, 'USERS', () => ctx.client.setSeats(body), locate);
  }, sections.filter(Boolean));
}

// COUNTRIES are the ISO 3166-1 alpha-2 codes, named in the buyer's language by
// Intl.DisplayNames; the API checks which ones the catalog sells to.
const COUNTRIES = ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF ' +
  'GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW ' +
  'KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL ' +
  'NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST ' +
  'SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' ');

function countryOptions(ctx) {
  const names = new Intl.DisplayNames([lang()], { type: 'region' });
  const opts = COUNTRIES.map((c) => ({ value: c, label: names.of(c) || c }))
    .sort((a, b) => a.label.localeCompare(b.label, lang()));
  return [{ value: '', label: ctx.t('customer.chooseCountry') }, ...opts];
}

const BUYER_FIELDS = [
  { name: 'email', type: 'email', required: true, autocomplete: 'email' },
  { name: 'lastName', required: true, autocomplete: 'family-name' },
  { name: 'firstName', required: true, autocomplete: 'given-name' },
  { name: 'organisation', autocomplete: 'organization' },
  { name: 'address', autocomplete: 'street-address' },
  { name: 'zip', autocomplete: 'postal-code' },
  { name: 'city', required: true, autocomplete: 'address-level2' },
  { name: 'country', type: 'select', required: true, autocomplete: 'country' },
];

const INVOICING_FIELDS = [
  { name: 'organisation', required: true, autocomplete: 'billing organization' },
  { name: 'department' },
  { name: 'lastName', required: true, autocomplete: 'billing family-name' },
  { name: 'firstName', required: true, autocomplete: 'billing given-name' },
  { name: 'email', type: 'email', autocomplete: 'billing email' },
  { name: 'address', required: true, autocomplete: 'billing street-address' },
  { name: 'zip', required: true, autocomplete: 'billing postal-code' },
  { name: 'city', required: true, autocomplete: 'billing address-level2' },
  { name: 'country', type: 'select', required: true, autocomplete: 'billing country' },
  { name: 'vatNumber' },
  { name: 'plantCode' },
];

// customerView asks the buyer's details and, optionally, distinct invoicing details.
export async function customerView(ctx) {
  const { t } = ctx;
  const cu = ctx.cart.customer || {};
  const inv = cu.invoicing || null;
  const countries = countryOptions(ctx);
  const mk = (prefix, f, vals) => field({
    id: `${prefix}-${f.name}`, label: t(`field.${f.name}`), path: prefix === 'inv' ? `invoicing.${f.name}` : f.name,
    type: f.type || 'text', value: vals?.[f.name] || '', required: f.required, autocomplete: f.autocomplete,
    options: f.type === 'select' ? countries : undefined,
  });
  const invSet = h('fieldset', { class: 'invoicing', id: 'invoicing', hidden: !inv },
    h('legend', {}, t('customer.invoicing')), h('div', { class: 'grid' }, INVOICING_FIELDS.map((f) => mk('inv', f, inv))));
  const toggle = h('input', {
    id: 'use-invoicing', type: 'checkbox', checked: Boolean(inv), 'aria-controls': 'invoicing',
    onchange: (e) => { invSet.hidden = !e.target.checked; },
  });
  const body = [
    h('fieldset', { class: 'buyer' }, h('legend', {}, t('customer.buyer')), h('div', { class: 'grid' }, BUYER_FIELDS.map((f) => mk('cust', f, cu)))),
    h('div', { class: 'field field-check' }, toggle, h('label', { for: 'use-invoicing' }, t('customer.invoicingToggle'))),
    invSet,
  ];
  return formShell(ctx, t('customer.title'), null, 'CUSTOMER', (form) => {
    const read = (prefix, fields) => {
      const out = {};
      for (const f of fields) {
        const v = form.elements[`${prefix}-${f.name}`].value.trim();
        if (v || f.required) out[f.name] = v;
      }
      return out;
    };
    const customer = { ...read('cust', BUYER_FIELDS), lang: lang() };
    if (toggle.checked) customer.invoicing = read('inv', INVOICING_FIELDS);
    // The cart's steps address the customer's fields as "customer.<field>".
    const fix = (f) => ({ ...f, field: f.field.replace(/^customer\./, '') });
    return saveAndGo(ctx, form, 'CUSTOMER', () => ctx.client.setCustomer(customer), byPath(form), fix);
  }, body);
}
