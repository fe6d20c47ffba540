// What a test asks the next ID token to get wrong, the way a forged or misrouted token would.
import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';

export const TAMPERS = ['audience', 'key', 'nonce', 'issuer', 'expired'];

export async function tamperIdToken(idToken, what, { signingKey, otherIssuer }) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = signingKey;
  switch (what) {
    case 'audience':
      claims.aud = 'another-client';
      break;
    case 'key':
      // Same kid as the published key, so only the signature check can catch it.
      ({ privateKey: key } = await generateKeyPair(header.alg));
      break;
    case 'nonce':
      claims.nonce = randomUUID();
      break;
    case 'issuer':
      claims.iss = otherIssuer(claims);
      break;
    case 'expired':
      claims.iat = now - 7200;
      claims.exp = now - 3600;
      break;
    default:
      throw new Error(`unknown tamper ${what}`);
  }
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}
