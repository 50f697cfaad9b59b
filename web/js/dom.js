// dom builds elements without innerHTML, so text from the catalog or the buyer can
// never be interpreted as markup.

import { apiText, t } from './i18n.js';

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple', 'open', 'indeterminate']);

// h creates a tag with attributes (on* functions become listeners, PROPS are set as
// properties) and children (strings become text; null/false are skipped; arrays flatten).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') { for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) el.dataset[dk] = dv; }
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// slug makes a string safe inside an id attribute.
export function slug(s) {
  return String(s).replace(/[^A-Za-z0-9_-]+/g, '_');
}

// field renders a labelled input with room for its error message; path is the API's
// address of the value, used to place the API's per-field errors.
export function field({ id, label, path, type = 'text', value = '', required = false, autocomplete, options, hint, inputmode, pattern }) {
  const errId = `${id}-err`;
  const describedBy = [hint ? `${id}-hint` : null, errId].filter(Boolean).join(' ');
  let input;
  if (type === 'textarea') {
    input = h('textarea', { id, name: id, rows: 3, required, 'aria-describedby': describedBy, dataset: { path } }, value);
  } else if (type === 'select') {
    input = h('select', { id, name: id, required, 'aria-describedby': describedBy, autocomplete, dataset: { path } },
      options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
  } else if (type === 'checkbox') {
    input = h('input', { id, name: id, type: 'checkbox', checked: value === true || value === 'true', 'aria-describedby': describedBy, dataset: { path } });
    return h('div', { class: 'field field-check' },
      input, h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
      h('p', { class: 'field-error', id: errId, hidden: true }));
  } else {
    input = h('input', { id, name: id, type, value, required, autocomplete, inputmode, pattern, 'aria-describedby': describedBy, dataset: { path } });
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    input,
    h('p', { class: 'field-error', id: errId, hidden: true }));
}

// clearErrors removes the error marks of a form.
export function clearErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) { el.textContent = ''; el.hidden = true; }
  const summary = form.querySelector('.form-errors');
  if (summary) { summary.replaceChildren(); summary.hidden = true; }
}

// showErrors marks each error's input (found by data-path through locate) and lists
// the errors in the form's summary, focusing it so keyboard and screen-reader users
// learn at once what to fix. Errors without an input are listed in the summary only.
export function showErrors(form, fields, locate, summaryText) {
  clearErrors(form);
  fields = fields.map((f) => ({ ...f, message: apiText(f.message) }));
  const summary = form.querySelector('.form-errors');
  const items = [];
  for (const f of fields) {
    const input = locate(f.field);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const err = document.getElementById(`${input.id}-err`);
      if (err) {
        err.textContent = err.textContent ? `${err.textContent}; ${f.message}` : f.message;
        err.hidden = false;
      }
      const lbl = form.querySelector(`label[for="${CSS.escape(input.id)}"]`);
      items.push(h('li', {}, h('a', { href: `#${input.id}`, onclick: (e) => { e.preventDefault(); input.focus(); } },
        t('error.item', { field: lbl ? lbl.textContent.replace(/\s*\*$/, '') : f.field, message: f.message }))));
    } else {
      const holder = form.querySelector(`.field-error[data-for="${CSS.escape(f.field)}"]`);
      if (holder) { holder.textContent = f.message; holder.hidden = false; }
      items.push(h('li', {}, t('error.item', { field: f.field, message: f.message })));
    }
  }
  if (summary) {
    summary.replaceChildren(h('p', {}, summaryText), h('ul', {}, items));
    summary.hidden = false;
    summary.focus();
  }
}

// byPath finds the input of an API field address inside form.
export function byPath(form) {
  return (path) => form.querySelector(`[data-path="${CSS.escape(path)}"]`);
}

// clearOnEdit hides an input's error as soon as the buyer changes it, so the marks
// left on screen are the ones still to fix.
export function clearOnEdit(form) {
  const clear = (e) => {
    const input = e.target;
    if (input.getAttribute?.('aria-invalid') !== 'true') return;
    input.removeAttribute('aria-invalid');
    const err = document.getElementById(`${input.id}-err`);
    if (err) { err.textContent = ''; err.hidden = true; }
  };
  form.addEventListener('input', clear);
  form.addEventListener('change', clear);
  return form;
}
