// Signing in without pages a test must script: a login_hint naming a user signs that user in and
// grants consent at once; "cancel" denies; with no hint, a one-field form.
import { findUser } from './directory.mjs';
import { readForm, signInPage } from './http.mjs';

const DENIED = { error: 'access_denied', error_description: 'the user cancelled the sign-in' };

async function decide(provider, details, { cancel, user }) {
  if (cancel) return DENIED;
  // A new grant every time: the session may hold another user's from an earlier sign-in.
  const grant = new provider.Grant({ accountId: user.sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  return { login: { accountId: user.sub }, consent: { grantId: await grant.save() } };
}

export function loginMiddleware({ provider, providerName, tenant, title, mountPath }) {
  return async (ctx, next) => {
    const uid = /^\/interaction\/([^/]+)$/.exec(ctx.path)?.[1];
    if (!uid) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    let account = details.params.login_hint;
    let cancel = account === 'cancel';
    if (ctx.method === 'POST') {
      const form = await readForm(ctx.req);
      account = form.account ?? '';
      cancel = form.action === 'cancel';
    }
    const user = cancel ? undefined : findUser(providerName, account, tenant);
    if (!cancel && !user) {
      const error = account === undefined ? undefined : `No account ${account} here.`;
      ctx.type = 'html';
      ctx.body = signInPage({ title, action: `${mountPath}/interaction/${uid}`, account, error });
      return undefined;
    }
    const result = await decide(provider, details, { cancel, user });
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result));
    ctx.status = 303;
    return undefined;
  };
}
