/**
 * A browser-like HTTP client for the admin pages over real sockets: keeps cookies (as a browser would, by
 * name), does not follow redirects (tests look at them), and reads the CSRF token out of a page's forms.
 */
export interface AdminResponse {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
  /** Raw Set-Cookie header lines of this response. */
  setCookies: string[];
}

export interface AdminClient {
  cookies: Map<string, string>;
  get(path: string): Promise<AdminResponse>;
  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<AdminResponse>;
  /** GET /admin/login, then post the form with its CSRF token. */
  login(username: string, password: string): Promise<AdminResponse>;
  /** The CSRF token of the last page that had a form. */
  csrf(): string;
}

export function csrfOf(body: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
}

/** `headers` go with every request (e.g. the X-Forwarded-Proto a TLS-terminating proxy adds). */
export function adminClient(
  baseUrl: string,
  options: { headers?: Record<string, string> } = {},
): AdminClient {
  const cookies = new Map<string, string>();
  let lastCsrf: string | undefined;

  async function send(path: string, init: RequestInit): Promise<AdminResponse> {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(`${baseUrl}${path}`, {
      ...init,
      redirect: 'manual',
      headers: {
        ...options.headers,
        ...(init.headers as Record<string, string>),
        ...(cookie ? { cookie } : {}),
      },
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0$/i.test(a),
      );
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    const body = await response.text();
    lastCsrf = csrfOf(body) ?? lastCsrf;
    return {
      status: response.status,
      location: response.headers.get('location'),
      body,
      headers: response.headers,
      setCookies,
    };
  }

  const client: AdminClient = {
    cookies,
    get: (path) => send(path, { method: 'GET' }),
    post: (path, form, headers = {}) =>
      send(path, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
    async login(username, password) {
      const page = await client.get('/admin/login');
      return client.post('/admin/login', {
        _csrf: csrfOf(page.body) ?? '',
        username,
        password,
        next: '/admin/',
      });
    },
    csrf() {
      if (!lastCsrf) throw new Error('no page with a CSRF token was loaded');
      return lastCsrf;
    },
  };
  return client;
}
