// The OpenID Connect providers the tests sign in with, in place of Google and Microsoft.
// Listens on a free loopback port, prints {"url", "clients", "tenants"} as one JSON line when
// ready, and exits when its standard input closes (so it never outlives the test run).
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';

import { admin } from './lib/admin.mjs';
import { addClient, TENANTS } from './lib/directory.mjs';
import { send } from './lib/http.mjs';
import { makeInstance, mounted } from './lib/instance.mjs';
import { COMMON, commonEndpoint, tenantIssuer } from './lib/microsoft.mjs';

async function signingKeys() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `stand-in-${Date.now()}`;
  const common = { kid, alg: 'RS256', use: 'sig' };
  return {
    privateKey,
    jwks: { keys: [{ ...(await exportJWK(privateKey)), ...common }] },
    publicJwks: { keys: [{ ...(await exportJWK(publicKey)), ...common }] },
  };
}

function routes(base, keys) {
  const shared = { jwks: keys.jwks, signingKey: keys.privateKey };
  const table = [['/admin/', admin]];
  const google = makeInstance({
    ...shared,
    issuer: `${base}/google`,
    providerName: 'google',
    title: 'Google',
    otherIssuer: () => `${base}/elsewhere`,
  });
  table.push(['/google/', mounted(google, '/google')]);
  table.push([`${COMMON}/`, commonEndpoint({ base, tenants: TENANTS, publicJwks: keys.publicJwks })]);
  for (const tenant of TENANTS) {
    const issuer = tenantIssuer(base, tenant);
    const instance = makeInstance({
      ...shared,
      issuer,
      providerName: 'microsoft',
      tenant,
      title: 'Microsoft',
      otherIssuer: ({ tid }) => tenantIssuer(base, TENANTS.find((other) => other !== tid)),
    });
    const mountPath = new URL(issuer).pathname;
    table.push([`${mountPath}/`, mounted(instance, mountPath)]);
  }
  return table;
}

async function main() {
  let table = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const found = table.find(([prefix]) => url.pathname.startsWith(prefix));
    try {
      if (!found) return send(res, 404, { error: 'not_found' });
      return await found[1](req, res, url);
    } catch (error) {
      process.stderr.write(`${error.stack}\n`);
      if (!res.headersSent) send(res, 500, { error: 'server_error' });
      return undefined;
    }
  });
  await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${server.address().port}`;
  table = routes(base, await signingKeys());
  const clients = {
    google: addClient('google', 'nexam-google'),
    microsoft: addClient('microsoft', 'nexam-microsoft'),
  };
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ url: base, clients, tenants: TENANTS })}\n`);
}

await main();
