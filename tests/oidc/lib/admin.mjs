// The tests' hand on the stand-ins: users, clients and tampered tokens.
import {
  addClient, BadRequest, getUser, PROVIDERS, putUser, setTamper,
} from './directory.mjs';
import { readBody, send } from './http.mjs';
import { TAMPERS } from './tamper.mjs';

async function readJson(req) {
  try {
    return JSON.parse((await readBody(req)).toString('utf8') || '{}');
  } catch {
    throw new BadRequest('the body is not JSON');
  }
}

function known(provider) {
  if (!PROVIDERS.includes(provider)) throw new BadRequest(`unknown provider ${provider}`);
  return provider;
}

async function route(req, url) {
  const parts = url.pathname.split('/').slice(2).map(decodeURIComponent);
  const [collection, provider, sub, action] = parts;
  if (req.method === 'POST' && parts.length === 1 && collection === 'users') {
    const fields = await readJson(req);
    return putUser(known(fields.provider), fields);
  }
  if (req.method === 'POST' && parts.length === 1 && collection === 'clients') {
    return addClient(known((await readJson(req)).provider));
  }
  if (collection === 'users' && parts.length === 3 && req.method === 'PATCH') {
    const { email } = await readJson(req);
    if (typeof email !== 'string' || !email) throw new BadRequest('email is required');
    return Object.assign(getUser(known(provider), sub), { email });
  }
  if (collection === 'users' && action === 'tamper' && parts.length === 4 && req.method === 'POST') {
    const { what } = await readJson(req);
    if (!TAMPERS.includes(what)) throw new BadRequest(`tamper is one of ${TAMPERS.join(', ')}`);
    setTamper(known(provider), sub, what);
    return { provider, sub, tamper: what };
  }
  return undefined;
}

export async function admin(req, res, url) {
  try {
    const answer = await route(req, url);
    return answer ? send(res, 200, answer) : send(res, 404, { error: 'not_found' });
  } catch (error) {
    if (error instanceof BadRequest) return send(res, 400, { error: error.message });
    throw error;
  }
}
