// api is the storefront's client of the checkout HTTP API. It keeps the transaction ID
// and the cart token in sessionStorage (the token is a bearer secret: it must not
// outlive the tab nor be shared with other tabs' purchases), and turns every error
// answer into an ApiError carrying the API's code, message and per-field errors.

const TX_KEY = 'checkout.tx';
const TOKEN_KEY = 'checkout.token';
const DONE_KEY = 'checkout.completed';
const LINK_KEY = 'checkout.link';

// ApiError is a refused or failed API call.
export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || '';
    this.fields = fields || [];
  }

  // gone reports an answer meaning the cart no longer exists for this buyer
  // (expired, reset elsewhere, or a token that no longer matches).
  get gone() {
    return this.status === 401 || this.status === 404 || this.status === 410;
  }
}

// session reads and writes the current purchase's identifiers.
export const session = {
  get tx() { return sessionStorage.getItem(TX_KEY); },
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  // link is the read-only token of a link from an e-mail or a provider's return: it
  // reads the order and its bill, nothing more.
  get link() { return sessionStorage.getItem(LINK_KEY); },
  // completed is true once the current transaction's order was seen COMPLETE.
  get completed() { return Boolean(this.tx) && sessionStorage.getItem(DONE_KEY) === this.tx; },
  markCompleted() { if (this.tx) sessionStorage.setItem(DONE_KEY, this.tx); },
  set(tx, token) {
    sessionStorage.setItem(TX_KEY, tx);
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.removeItem(LINK_KEY);
  },
  // setLink follows a link to an order: the cart token of this tab is kept when it is
  // the same order's (it can do more), dropped otherwise.
  setLink(tx, link) {
    if (this.tx !== tx) {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(DONE_KEY);
    }
    sessionStorage.setItem(TX_KEY, tx);
    sessionStorage.setItem(LINK_KEY, link);
  },
  clear() {
    sessionStorage.removeItem(TX_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(DONE_KEY);
    sessionStorage.removeItem(LINK_KEY);
  },
};

// Client calls the API at baseURL.
export class Client {
  constructor(baseURL, fetchFn = (...a) => fetch(...a)) {
    this.base = String(baseURL).replace(/\/+$/, '');
    this.fetch = fetchFn;
  }

  async call(method, path, body, { auth = true } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
    let res;
    try {
      res = await this.fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, 'network', e.message);
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!res.ok) {
      const e = data?.error || {};
      throw new ApiError(res.status, e.code, e.message || text.slice(0, 200), e.fields);
    }
    return data;
  }

  txPath(suffix = '') {
    return `/carts/${encodeURIComponent(session.tx)}${suffix}`;
  }

  catalog() { return this.call('GET', '/catalog', undefined, { auth: false }); }

  async createCart(lines, partner) {
    const body = { lines };
    if (partner) body.partner = partner;
    const r = await this.call('POST', '/carts', body, { auth: false });
    session.set(r.transactionId, r.cartToken);
    return r;
  }

  cart() { return this.call('GET', this.txPath()); }
  setLine(code, quantity) { return this.call('PUT', this.txPath(`/lines/${encodeURIComponent(code)}`), { quantity }); }
  removeLine(code) { return this.call('DELETE', this.txPath(`/lines/${encodeURIComponent(code)}`)); }
  reset() { return this.call('DELETE', this.txPath()); }
  addCode(code) { return this.call('POST', this.txPath('/codes'), { code }); }
  removeCode(code) { return this.call('DELETE', this.txPath(`/codes/${encodeURIComponent(code)}`)); }
  unlock(code, password) { return this.call('POST', this.txPath('/unlock'), { code, password }); }
  setRequirements(requirements) { return this.call('PUT', this.txPath('/requirements'), { requirements }); }
  setSeats(body) { return this.call('PUT', this.txPath('/seats'), body); }
  setCustomer(customer) { return this.call('PUT', this.txPath('/customer'), customer); }
  review() { return this.call('GET', this.txPath('/order')); }
  place(paymode) { return this.call('POST', this.txPath('/order'), { acceptTerms: true, paymode }); }

  orderPath(suffix = '') {
    return `/orders/${encodeURIComponent(session.tx)}${suffix}`;
  }

  // linkQuery reads with the link token when this tab has no cart token.
  linkQuery(sep = '?') {
    return !session.token && session.link ? `${sep}token=${encodeURIComponent(session.link)}` : '';
  }

  order() { return this.call('GET', this.orderPath() + this.linkQuery()); }
  testPayment(action) { return this.call('POST', this.orderPath('/payment/test'), { action }); }
  retryPayment(paymode) { return this.call('POST', this.orderPath('/payment'), { paymode }); }
  bill() { return this.callText('GET', this.orderPath('/bill?format=html') + this.linkQuery('&')); }

  // billURL is the bill's address with a read-only link token in the query, for
  // opening it in a new tab where no Authorization header can be sent (the order view
  // gives the cart token's holder one).
  billURL(link = session.link) {
    return `${this.base}${this.orderPath('/bill')}?format=html&token=${encodeURIComponent(link || '')}`;
  }

  // creditNoteURL is the printable credit note of a refunded invoiced order, opened
  // the same way as billURL.
  creditNoteURL(link = session.link) {
    return `${this.base}${this.orderPath('/bill')}?document=creditnote&format=html&token=${encodeURIComponent(link || '')}`;
  }

  async callText(method, path) {
    let res;
    try {
      const headers = session.token ? { Authorization: `Bearer ${session.token}` } : {};
      res = await this.fetch(this.base + path, { method, headers });
    } catch (e) {
      throw new ApiError(0, 'network', e.message);
    }
    const text = await res.text();
    if (!res.ok) {
      let e = {};
      try { e = JSON.parse(text).error || {}; } catch { /* not JSON */ }
      throw new ApiError(res.status, e.code, e.message || text.slice(0, 200), e.fields);
    }
    return text;
  }
}
