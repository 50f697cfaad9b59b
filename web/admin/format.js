// format holds the back-office page's pure functions: merchant trace lines, money in
// minor units, and the allowed transitions (both in docs/spec.md). They mirror the Go code
// (trace.Line.Format, pricing.FormatPlain, checkout.Statuses and checkout.CanMove);
// internal/archtest's pagerules_test.go holds STATUSES and TRANSITIONS against checkout.
// A currency's decimals are the storefront's minorDigits (web/js/money.js), pricing's
// table, so the two pages read amounts alike.

import { minorDigits } from '../js/money.js';

// TRANSITIONS is docs/spec.md's table of transitions: from each status, the statuses
// an order may move to.
export const TRANSITIONS = {
  PLACED: ['PENDING', 'PREPROD', 'SOLDOUT', 'CANCELLED'],
  WORKING: ['PLACED', 'PENDING', 'PARTIAL', 'CANCELLED'],
  PENDING: ['CANCELLED', 'REFUSED', 'SOLDOUT', 'FAILED'],
  PREPROD: ['COMPLETE', 'PARTIAL'],
  PARTIAL: ['COMPLETE', 'PAYBACK'],
  SOLDOUT: ['COMPLETE', 'PAYBACK'],
  PAYBACK: ['CANCELLED'],
  REFUSED: ['PENDING', 'SOLDOUT'],
  FAILED: ['PENDING', 'CANCELLED', 'SOLDOUT'],
  COMPLETE: [],
  CANCELLED: [],
};

// STATUSES lists every status in the order of docs/spec.md#statuses-and-transitions.
export const STATUSES = ['WORKING', 'PLACED', 'PENDING', 'PREPROD', 'SOLDOUT', 'PARTIAL', 'COMPLETE',
  'PAYBACK', 'FAILED', 'REFUSED', 'CANCELLED'];

// allowedFrom lists where an order of status may go.
export function allowedFrom(status) {
  return TRANSITIONS[status] || [];
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

// parseInstant reads an RFC 3339 time to the millisecond without going through
// Date's parser for the fraction (Go writes up to nanoseconds; the trace wants the
// milliseconds truncated, as Go's Format does).
function parseInstant(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(String(s));
  if (!m) return null;
  const ms = Number(((m[7] || '') + '000').slice(0, 3));
  let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
  if (m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    t -= sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
  }
  return new Date(t);
}

// formatTraceLine renders one trace line ({at, transactionId, source, message}) as
// docs/spec.md#transaction-id-and-merchant-trace shows it, in UTC:
// "-- 2016-7-27 11:32:13 753 -- [TU80WKRYTI9QUMJ4] Test Processing : paying".
export function formatTraceLine(l) {
  const d = parseInstant(l.at);
  const stamp = d
    ? `-- ${d.getUTCFullYear()}-${d.getUTCMonth() + 1}-${d.getUTCDate()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${pad(d.getUTCMilliseconds(), 3)} --`
    : `-- ${l.at} --`;
  return l.transactionId ? `${stamp} [${l.transactionId}] ${l.source} : ${l.message}` : `${stamp} ${l.source} : ${l.message}`;
}

// formatMoney renders minor units as "1234.50 EUR" with string arithmetic on the
// integer (BigInt), so no amount goes through a float.
export function formatMoney(minor, currency) {
  if (minor === undefined || minor === null) return '';
  let v = BigInt(minor);
  const neg = v < 0n;
  if (neg) v = -v;
  const digits = minorDigits(currency);
  let s = v.toString();
  if (digits > 0) {
    s = s.padStart(digits + 1, '0');
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return `${neg ? '-' : ''}${s}${currency ? ' ' + currency : ''}`;
}

// parseMoney reads "123.45" (or "123,45", or "123") in the currency's decimals into
// minor units, refusing more decimals than the currency has; it returns null for
// anything else, so a typo never becomes a different amount.
export function parseMoney(text, currency) {
  const digits = minorDigits(currency);
  const m = /^\s*(\d+)(?:[.,](\d+))?\s*$/.exec(String(text));
  if (!m || (m[2] && m[2].length > digits)) return null;
  const frac = (m[2] || '').padEnd(digits, '0');
  const n = BigInt(m[1] + frac);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(n);
}
