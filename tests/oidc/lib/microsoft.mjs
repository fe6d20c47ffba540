// Microsoft's multi-tenant "common" endpoint: one discovery document whose issuer is a template,
// an authorize endpoint that finds the user's tenant and hands over to that tenant's instance,
// and a token endpoint that takes the code to the tenant that issued it.
import { findUser } from './directory.mjs';
import { readBody, readForm, redirect, send, signInPage } from './http.mjs';

export const COMMON = '/microsoft/common';
const AUTHORIZE = `${COMMON}/oauth2/v2.0/authorize`;
const TOKEN = `${COMMON}/oauth2/v2.0/token`;
const KEYS = `${COMMON}/discovery/v2.0/keys`;
const DISCOVERY = `${COMMON}/v2.0/.well-known/openid-configuration`;

export const tenantIssuer = (base, tenant) => `${base}/microsoft/${tenant}/v2.0`;

function discovery(base) {
  return {
    issuer: tenantIssuer(base, '{tenantid}'),
    authorization_endpoint: `${base}${AUTHORIZE}`,
    token_endpoint: `${base}${TOKEN}`,
    jwks_uri: `${base}${KEYS}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    scopes_supported: ['openid', 'email', 'profile'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'email', 'name',
      'preferred_username', 'xms_edov'],
  };
}

// The tenant's own authorize endpoint, with the user fixed by login_hint.
function handOver(base, tenant, query, loginHint) {
  const params = new URLSearchParams(query);
  params.set('login_hint', loginHint);
  return `${tenantIssuer(base, tenant)}/auth?${params}`;
}

async function authorize(req, res, { base, tenants, url }) {
  const query = url.searchParams;
  let account = query.get('login_hint') ?? undefined;
  let cancel = account === 'cancel';
  if (req.method === 'POST') {
    const form = await readForm(req);
    account = form.account ?? '';
    cancel = form.action === 'cancel';
  }
  // The first tenant's instance answers a cancel: it checks the client and its redirect_uri.
  if (cancel) return redirect(res, handOver(base, tenants[0], query, 'cancel'));
  const user = account === undefined ? undefined : findUser('microsoft', account);
  if (user) return redirect(res, handOver(base, user.tenant, query, user.sub));
  const error = account === undefined ? undefined : `No account ${account} here.`;
  const page = signInPage({ title: 'Microsoft', action: `${url.pathname}${url.search}`, account, error });
  return send(res, 200, page, 'text/html');
}

async function token(req, res, { base, tenants }) {
  const body = await readBody(req);
  const headers = { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  let answer;
  for (const tenant of tenants) {
    answer = await fetch(`${tenantIssuer(base, tenant)}/token`, { method: 'POST', headers, body });
    const payload = await answer.json();
    // Only the tenant that issued the code knows it; the others say invalid_grant.
    if (answer.ok || payload.error !== 'invalid_grant') return send(res, answer.status, payload);
    answer = payload;
  }
  return send(res, 400, answer);
}

export function commonEndpoint({ base, tenants, publicJwks }) {
  return async (req, res, url) => {
    const context = { base, tenants, url };
    if (url.pathname === DISCOVERY && req.method === 'GET') return send(res, 200, discovery(base));
    if (url.pathname === KEYS && req.method === 'GET') return send(res, 200, publicJwks);
    if (url.pathname === AUTHORIZE && ['GET', 'POST'].includes(req.method)) {
      return authorize(req, res, context);
    }
    if (url.pathname === TOKEN && req.method === 'POST') return token(req, res, context);
    return send(res, 404, { error: 'not_found' });
  };
}
