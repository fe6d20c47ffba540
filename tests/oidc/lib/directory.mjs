// Who exists: the users each stand-in signs in and the clients each one serves, in memory.
import { randomBytes, randomUUID } from 'node:crypto';

export const PROVIDERS = ['google', 'microsoft'];
export const TENANTS = ['7f3c1a52-1d6e-4b8a-9c2f-0a1b2c3d4e5f', 'c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f'];

const users = new Map(PROVIDERS.map((provider) => [provider, new Map()]));
const clients = new Map(PROVIDERS.map((provider) => [provider, new Map()]));
const tampers = new Map();

export class BadRequest extends Error {}

function providerUsers(provider) {
  const found = users.get(provider);
  if (!found) throw new BadRequest(`unknown provider ${provider}`);
  return found;
}

export function putUser(provider, fields) {
  if (typeof fields.email !== 'string' || !fields.email) throw new BadRequest('email is required');
  const user = {
    provider,
    sub: fields.sub || randomUUID().replaceAll('-', ''),
    email: fields.email,
    name: fields.name ?? fields.email.split('@')[0],
  };
  if (provider === 'google') {
    user.email_verified = fields.email_verified ?? true;
  } else {
    user.tenant = fields.tenant ?? TENANTS[0];
    if (!TENANTS.includes(user.tenant)) throw new BadRequest(`unknown tenant ${user.tenant}`);
    if (fields.xms_edov !== undefined && fields.xms_edov !== null) user.xms_edov = fields.xms_edov;
  }
  providerUsers(provider).set(user.sub, user);
  return user;
}

export function getUser(provider, sub) {
  const user = providerUsers(provider).get(sub);
  if (!user) throw new BadRequest(`no ${provider} user ${sub}`);
  return user;
}

// An account as typed on the sign-in page or given as login_hint: a sub or an email.
export function findUser(provider, account, tenant) {
  const wanted = String(account ?? '').trim().toLowerCase();
  for (const user of providerUsers(provider).values()) {
    if (tenant && user.tenant !== tenant) continue;
    if (user.sub.toLowerCase() === wanted || user.email.toLowerCase() === wanted) return user;
  }
  return undefined;
}

export function addClient(provider, clientId = `${provider}-${randomUUID()}`) {
  const client = { client_id: clientId, client_secret: randomBytes(24).toString('base64url') };
  providerUsers(provider);
  clients.get(provider).set(clientId, client);
  return client;
}

export function findClient(provider, clientId) {
  return clients.get(provider).get(clientId);
}

export function setTamper(provider, sub, what) {
  getUser(provider, sub);
  tampers.set(`${provider}:${sub}`, what);
}

// A tamper applies to the next ID token only.
export function takeTamper(provider, sub) {
  const key = `${provider}:${sub}`;
  const what = tampers.get(key);
  tampers.delete(key);
  return what;
}
