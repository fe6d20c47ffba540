// One oidc-provider instance: Google's, or one Microsoft tenant's.
import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import Provider from 'oidc-provider';
// Each instance needs its own store (the default one is shared by every instance in the
// process, so a code from one tenant would be redeemable at another); oidc-provider is pinned.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

import { findClient, findUser, takeTamper } from './directory.mjs';
import { loginMiddleware } from './login.mjs';
import { tamperIdToken } from './tamper.mjs';

const CLAIMS = {
  google: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  microsoft: {
    openid: ['sub', 'tid', 'xms_edov'],
    email: ['email'],
    profile: ['name', 'preferred_username'],
  },
};

function claimsOf(user) {
  if (user.provider === 'google') {
    const { sub, email, email_verified, name } = user;
    return { sub, email, email_verified, name };
  }
  const { sub, tenant, email, name, xms_edov } = user;
  return { sub, tid: tenant, email, preferred_username: email, name, xms_edov };
}

function adapterFor(providerName) {
  const memory = createMemoryAdapter();
  const clients = {
    async find(id) {
      const client = findClient(providerName, id);
      return client && {
        ...client,
        // any loopback port is allowed below; the schema still wants one registered
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      };
    },
  };
  return (model) => (model === 'Client' ? clients : memory(model));
}

function isLoopbackRedirect(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(url.hostname)
      && url.port !== '' && url.hash === '';
  } catch {
    return false;
  }
}

// Authorizations (and their resumption after sign-in) ignore any earlier session, so each one
// asks who signs in (login_hint or the form), and a different user than the last needs no logout
// first. The instances share one host, so their session cookies would mix anyway.
function withoutSession(provider) {
  const name = provider.cookieName('session');
  return async (ctx, next) => {
    const { cookie } = ctx.req.headers;
    if (/^\/auth(\/|$)/.test(ctx.path) && cookie) {
      ctx.req.headers.cookie = cookie.split(/;\s*/).filter((c) => !c.startsWith(name)).join('; ');
    }
    return next();
  };
}

export function makeInstance({ issuer, providerName, tenant, title, jwks, signingKey, otherIssuer }) {
  const mountPath = new URL(issuer).pathname;
  const provider = new Provider(issuer, {
    adapter: adapterFor(providerName),
    jwks,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: CLAIMS[providerName],
    // Google and Microsoft put the profile and email claims in the ID token itself.
    conformIdTokenClaims: false,
    scopes: ['openid', 'email', 'profile'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const user = findUser(providerName, sub, tenant);
      return user && { accountId: user.sub, claims: () => claimsOf(user) };
    },
  });
  provider.Client.prototype.redirectUriAllowed = isLoopbackRedirect;
  provider.use(withoutSession(provider));
  provider.use(loginMiddleware({ provider, providerName, tenant, title, mountPath }));
  provider.use(async (ctx, next) => {
    await next();
    const idToken = ctx.path === '/token' && ctx.status === 200 ? ctx.body?.id_token : undefined;
    const what = idToken && takeTamper(providerName, decodeJwt(idToken).sub);
    if (what) {
      const tampered = await tamperIdToken(idToken, what, { signingKey, otherIssuer });
      ctx.body = { ...ctx.body, id_token: tampered };
    }
  });
  return provider;
}

// Hands a request under mountPath to the instance, which routes on the rest of the path and
// reads the mount from originalUrl when it writes its own URLs.
export function mounted(provider, mountPath) {
  const handle = provider.callback();
  return (req, res) => {
    req.originalUrl = req.url;
    req.url = req.url.slice(mountPath.length) || '/';
    return handle(req, res);
  };
}
