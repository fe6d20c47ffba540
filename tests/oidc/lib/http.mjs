// The little HTTP the stand-ins need around oidc-provider: bodies in, JSON and HTML out.
export async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function readForm(req) {
  return Object.fromEntries(new URLSearchParams((await readBody(req)).toString('utf8')));
}

export function send(res, status, body, type = 'application/json') {
  const text = type === 'application/json' ? JSON.stringify(body) : body;
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' });
  res.end(text);
}

export function redirect(res, location, status = 303) {
  res.writeHead(status, { location, 'content-length': '0' });
  res.end();
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function signInPage({ title, action, account = '', error }) {
  const alert = error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : '';
  const described = error ? ' aria-describedby="error" aria-invalid="true"' : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - ${escapeHtml(title)}</title></head>
<body>
<main>
<h1>Sign in to ${escapeHtml(title)}</h1>
${alert}
<form method="post" action="${escapeHtml(action)}">
<label for="account">Account</label>
<input id="account" name="account" type="text" autocomplete="username" value="${escapeHtml(account)}"${described}>
<button type="submit" name="action" value="sign_in">Sign in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
</main>
</body>
</html>
`;
}
