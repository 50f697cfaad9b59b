// money formats integer minor units (cents) for display. The amount is turned into an
// exact decimal string, never divided as a float, so 1999 EUR cents always reads
// "19,99 €" and large amounts keep every digit.

// ZERO_DECIMALS and THREE_DECIMALS are the ISO 4217 currencies whose minor unit is not
// 2 digits: internal/pricing's table, which decides what a stored amount's minor units
// are (internal/archtest's pagerules_test.go holds them against it). The browser's Intl
// is not asked: its digits are display conventions (0 for HUF, IDR, IQD…), and taking
// them would show 123456 HUF minor units, 1,234.56 HUF, as 123,456 HUF. The back
// office's format.js takes minorDigits from here.
const ZERO_DECIMALS = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMALS = new Set(['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']);

// minorDigits is how many decimals a currency's minor unit has (2 for EUR, 0 for JPY,
// 3 for KWD; 2 for a code the table does not list, as pricing.MinorDigits).
export function minorDigits(currency) {
  if (ZERO_DECIMALS.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
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
