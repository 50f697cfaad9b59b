// money formats integer minor units (cents) for display. The amount is turned into an
// exact decimal string, never divided as a float, so 1999 EUR cents always reads
// "19,99 €" and large amounts keep every digit.

const digitsCache = new Map();

// minorDigits is how many decimals a currency has (2 for EUR, 0 for JPY, 3 for KWD).
export function minorDigits(currency) {
  if (!digitsCache.has(currency)) {
    const d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    digitsCache.set(currency, d);
  }
  return digitsCache.get(currency);
}

// toDecimalString turns minor units into a decimal string: (1999, 2) → "19.99".
export function toDecimalString(minor, digits) {
  if (!Number.isSafeInteger(minor)) throw new TypeError(`amount must be an integer number of minor units, got ${minor}`);
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(digits + 1, '0');
  const whole = digits ? s.slice(0, -digits) : s;
  const frac = digits ? '.' + s.slice(-digits) : '';
  return (neg ? '-' : '') + whole + frac;
}

// formatMoney renders minor units of currency in the language's conventions.
export function formatMoney(minor, currency, lang) {
  const digits = minorDigits(currency);
  const nf = new Intl.NumberFormat(lang, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
  // Intl.NumberFormat formats decimal strings exactly (ECMA-402 "Intl.NumberFormat v3").
  return nf.format(toDecimalString(minor, digits));
}

// formatRate renders a rate in basis points: 2000 → "20 %" (fr) / "20%" (en).
export function formatRate(bp, lang) {
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 2 }).format(toDecimalString(bp, 4));
}
