// sigv4 signs a request with AWS Signature Version 4 in the browser, with WebCrypto
// only (HMAC-SHA256, SHA-256), so the back-office page can call the API's AWS_IAM
// routes with an operator's access key as the AWS CLI would. It follows the rules of
// the Go SDK's signer (aws-sdk-go-v2/aws/signer/v4), against which
// internal/opsclient's TestBrowserSignerMatchesSDK checks it:
//   - the path is URI-encoded a second time (every service but S3 does so);
//   - query parameters are sorted and strictly encoded (space is %20, not +);
//   - signed headers are host, x-amz-date, x-amz-security-token (with a session token)
//     and the caller's headers, lower-cased, values trimmed with inner spaces collapsed;
//   - the payload hash covers the exact body bytes sent.

const ALGORITHM = 'AWS4-HMAC-SHA256';
const enc = new TextEncoder();

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256Hex(data) {
  return hex(await crypto.subtle.digest('SHA-256', typeof data === 'string' ? enc.encode(data) : data));
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey('raw', typeof key === 'string' ? enc.encode(key) : key,
    { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, enc.encode(data));
}

// strictEncode percent-encodes every byte but the unreserved A-Z a-z 0-9 - _ . ~,
// as SigV4 (and Go's url.QueryEscape, bar the space) require.
export function strictEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// canonicalPath encodes the already-encoded path once more ("%20" becomes "%2520"):
// URL.pathname is ASCII, and every character but the unreserved ones and "/" is escaped.
function canonicalPath(pathname) {
  let out = '';
  for (const c of pathname || '/') out += /[A-Za-z0-9\-._~/]/.test(c) ? c : strictEncode(c);
  return out;
}

function canonicalQuery(search) {
  const pairs = [];
  for (const [k, v] of new URLSearchParams(search)) pairs.push([strictEncode(k), strictEncode(v)]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

// amzDate renders a date as 20060102T150405Z.
export function amzDate(d) {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// signRequest returns the headers to send: the caller's, plus X-Amz-Date,
// X-Amz-Security-Token (with a session token) and Authorization.
//   method, url: the request; headers: plain object of headers to send and sign
//   (e.g. content-type); body: the exact string sent ('' for none);
//   credentials: { accessKeyId, secretAccessKey, sessionToken? }; region; service;
//   now: the signing time (a Date).
export async function signRequest({ method, url, headers = {}, body = '', credentials, region, service = 'execute-api', now = new Date() }) {
  if (!credentials?.accessKeyId || !credentials?.secretAccessKey) throw new Error('sigv4: no access key or secret');
  if (!region) throw new Error('sigv4: no region');
  const u = new URL(url);
  const stamp = amzDate(now);
  const day = stamp.slice(0, 8);
  const out = { ...headers, 'X-Amz-Date': stamp };
  if (credentials.sessionToken) out['X-Amz-Security-Token'] = credentials.sessionToken;

  const signed = new Map([['host', u.host]]);
  for (const [name, value] of Object.entries(out)) {
    const lower = name.toLowerCase();
    if (lower === 'authorization' || lower === 'user-agent' || lower === 'content-length') continue;
    signed.set(lower, String(value).replace(/ +/g, ' ').trim());
  }
  const names = [...signed.keys()].sort();
  const canonicalHeaders = names.map((n) => `${n}:${signed.get(n)}\n`).join('');
  const signedHeaders = names.join(';');
  const payloadHash = await sha256Hex(body || '');

  const canonicalRequest = [method.toUpperCase(), canonicalPath(u.pathname), canonicalQuery(u.search),
    canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, await sha256Hex(canonicalRequest)].join('\n');

  let key = await hmac('AWS4' + credentials.secretAccessKey, day);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, 'aws4_request');
  const signature = hex(await hmac(key, stringToSign));

  out.Authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
