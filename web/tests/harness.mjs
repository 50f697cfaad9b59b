// harness starts the whole local cloud for the browser tests (go run ./cmd/localcloud
// on free ports), and a headless Chromium driven by playwright-core.
//
// Set CHECKOUT_WEB_URL and CHECKOUT_API_URL to test against a local cloud that is
// already running (e.g. `make run`) instead of starting one.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = join(REPO, 'docs', 'screenshots');

const require = createRequire(import.meta.url);
const { chromium } = require(join(REPO, 'node_modules', 'playwright-core'));

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

// startCloud runs the local cloud in its own process group and resolves with its URLs
// once it prints "ready". Compiling on a busy machine is slow: allow minutes.
export async function startCloud({ timeoutMs = 300_000 } = {}) {
  if (process.env.CHECKOUT_WEB_URL && process.env.CHECKOUT_API_URL) {
    return { webURL: process.env.CHECKOUT_WEB_URL, apiURL: process.env.CHECKOUT_API_URL, sesURL: process.env.CHECKOUT_SES_URL, stop: async () => {} };
  }
  const args = ['run', './cmd/localcloud', '-api-port', '0', '-dynamodb-port', '0', '-ses-port', '0', '-sfn-port', '0', '-web-port', '0', '-cognito-port', '0'];
  const child = spawn('go', args, { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-20_000); });
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local cloud not ready after ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        const web = /^storefront\s+(http\S+)/m.exec(out);
        const api = /^API \(HTTP API\)\s+(http\S+)/m.exec(out);
        const ses = /^mail viewer \(SES\)\s+(http\S+)/m.exec(out);
        if (!web || !api) reject(new Error(`cannot read the URLs from the local cloud's output:\n${out}`));
        else resolve({ webURL: web[1], apiURL: api[1], sesURL: ses?.[1], cognito: operators(out) });
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`local cloud exited with ${code} before ready; stderr:\n${err}`)); });
  });
  child.removeAllListeners('exit');
  const stop = () => stopGroup(child.pid);
  return { ...urls, stop, logs: () => err };
}

// operators reads the Cognito emulator's endpoint, the app client and the operators'
// credentials the local cloud prints: {url, poolId, clientId, operators: {group: {email, password}}}.
function operators(out) {
  const pool = /^Cognito \(operators\)\s+(http\S+)\s+pool (\S+), client (\S+)/m.exec(out);
  if (!pool) return null;
  const ops = {};
  for (const m of out.matchAll(/^\s+operator (\S+)\s+(\S+)\s+password (\S+)/gm)) ops[m[1]] = { email: m[2], password: m[3] };
  return { url: pool[1], poolId: pool[2], clientId: pool[3], operators: ops };
}

// stopGroup asks the process group to stop (the launcher then stops DynamoDB Local and
// the SES emulator, which run in groups of their own), and kills it if it lingers.
async function stopGroup(pgid, graceMs = 20_000) {
  const alive = () => { try { process.kill(-pgid, 0); return true; } catch { return false; } };
  try { process.kill(-pgid, 'SIGTERM'); } catch { return; }
  const until = Date.now() + graceMs;
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (alive()) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* already gone */ } }
}

// launchBrowser starts Debian's Chromium headless.
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

// newPage opens a page in a fresh context (its own sessionStorage) with a language,
// failing the test on any uncaught page error.
export async function newPage(browser, { locale = 'en-GB', viewport = { width: 1100, height: 800 } } = {}) {
  const context = await browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('dialog', (d) => d.accept());
  return { page, context, errors };
}

// shot saves a screenshot of the page to docs/screenshots/<name>.png: the whole page,
// or only the screen (fullPage false) for long pages, to keep the files small.
export async function shot(page, name, { fullPage = true } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage, animations: 'disabled', caret: 'hide' });
}

// api calls the HTTP API directly (to set up or check what the page did).
export async function api(apiURL, method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(apiURL + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}
