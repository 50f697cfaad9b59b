// auth signs an operator in to the shop's Cognito user pool, SDK-free: the user pools
// API is JSON over HTTPS, called with fetch. The page keeps only the tokens Cognito
// hands out (ID, access and refresh), in this tab's sessionStorage: no AWS key and no
// password is ever stored. The ID token is what the API's JWT authorizer checks; it is
// refreshed shortly before it expires.
//
// window.CHECKOUT_CONFIG.cognito = {endpoint, clientId}: the user pools endpoint
// (https://cognito-idp.<region>.amazonaws.com/, or the local emulator's) and the back
// office's app client.

const CFG = window.CHECKOUT_CONFIG?.cognito || {};
const ENDPOINT = String(CFG.endpoint || '').replace(/\/*$/, '/');
const CLIENT_ID = String(CFG.clientId || '');
const KEY = 'admin.session';
// Refresh when less than this is left, so a call never leaves with a dying token.
const MARGIN_MS = 60_000;

export const configured = () => Boolean(CFG.endpoint && CLIENT_ID);

// AuthError is a refusal of the user pool (NotAuthorizedException, CodeMismatchException…).
export class AuthError extends Error {
  constructor(type, message) {
    super(message || type);
    this.type = type;
  }
}

async function call(op, body) {
  let res;
  try {
    res = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${op}` },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new AuthError('network', `Cannot reach the sign-in service ${ENDPOINT} (${e.message}).`);
  }
  const raw = await res.text();
  let data = {};
  try { data = raw ? JSON.parse(raw) : {}; } catch { data = {}; }
  if (!res.ok) {
    const type = String(data.__type || data.code || `HTTP ${res.status}`).split('#').pop();
    throw new AuthError(type, data.message || type);
  }
  return data;
}

// claims decodes a token's payload, for display and expiry only: the API verifies it.
export function claims(token) {
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { return null; }
}

function keep(result, email, previous) {
  const s = {
    email,
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    // A refresh returns no new refresh token: keep the one signed in with.
    refreshToken: result.RefreshToken || previous?.refreshToken || '',
  };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

// outcome is a finished sign-in ({session}) or the next challenge to answer
// ({challenge: {name, session, email}}).
function outcome(data, email) {
  if (data.AuthenticationResult?.IdToken) return { session: keep(data.AuthenticationResult, email) };
  return { challenge: { name: data.ChallengeName, session: data.Session, email, parameters: data.ChallengeParameters || {} } };
}

export async function signIn(email, password) {
  const data = await call('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH', ClientId: CLIENT_ID, AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  return outcome(data, email);
}

// answer responds to NEW_PASSWORD_REQUIRED ({NEW_PASSWORD}) or SOFTWARE_TOKEN_MFA
// ({SOFTWARE_TOKEN_MFA_CODE}).
export async function answer(challenge, responses) {
  const data = await call('RespondToAuthChallenge', {
    ChallengeName: challenge.name, ClientId: CLIENT_ID, Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.email, ...responses },
  });
  return outcome(data, challenge.email);
}

let refreshing = null;

// idToken returns a valid ID token, refreshing it when it is about to expire; null when
// signed out or when the session cannot be renewed (the operator signs in again).
export async function idToken({ force = false } = {}) {
  const s = session();
  if (!s?.idToken) return null;
  const exp = (claims(s.idToken).exp || 0) * 1000;
  if (!force && exp - Date.now() > MARGIN_MS) return s.idToken;
  if (!s.refreshToken) { signOutLocally(); return null; }
  refreshing ??= call('InitiateAuth', {
    AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: CLIENT_ID, AuthParameters: { REFRESH_TOKEN: s.refreshToken },
  }).then((data) => keep(data.AuthenticationResult, s.email, s).idToken)
    .catch(() => { signOutLocally(); return null; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

function signOutLocally() {
  sessionStorage.removeItem(KEY);
}

// signOut forgets the tokens and revokes the refresh token, so a copy of it is useless.
export async function signOut() {
  const s = session();
  signOutLocally();
  if (s?.refreshToken) {
    try { await call('RevokeToken', { ClientId: CLIENT_ID, Token: s.refreshToken }); } catch { /* the tab's copy is gone already */ }
  }
}

export async function forgotPassword(email) {
  return call('ForgotPassword', { ClientId: CLIENT_ID, Username: email });
}

export async function confirmForgotPassword(email, code, password) {
  return call('ConfirmForgotPassword', { ClientId: CLIENT_ID, Username: email, ConfirmationCode: code, Password: password });
}

// TOTP: associate an authenticator app with the signed-in operator, then check a code
// from it and make it the second factor asked at every sign-in.
export async function startTotp() {
  const s = session();
  const data = await call('AssociateSoftwareToken', { AccessToken: s?.accessToken });
  return data.SecretCode;
}

export async function confirmTotp(code) {
  const s = session();
  const v = await call('VerifySoftwareToken', { AccessToken: s?.accessToken, UserCode: code, FriendlyDeviceName: 'back office' });
  if (v.Status !== 'SUCCESS') throw new AuthError('CodeMismatchException', 'The code does not match.');
  await call('SetUserMFAPreference', { AccessToken: s?.accessToken, SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } });
}
