/**
 * Sign in and out. After 5 wrong passwords for one username from one client IP within 15 minutes, that pair is
 * locked out for 15 minutes, through the shared RateLimiter so the limit holds across web replicas. The
 * password is never logged, audited or echoed back.
 *
 * Audit: `login.success` and `logout` name the account. A `login.failure` (wrong password, unknown username, or
 * refused by the lockout) has actor kind `user` with id null, because nobody proved who they are, and the
 * username typed as the actor's name and in details, so an admin can see attacks on one account.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateAdmin } from '../../db/admin-users.js';
import { audit } from '../../inbox/audit.js';
import {
  actorOf,
  formField,
  issueLoginCsrf,
  LOGIN_CSRF_COOKIE,
  loginCsrfValid,
  safeNext,
  SESSION_COOKIE,
  sessionCookieOptions,
  sessionOf,
  signedCookie,
} from '../auth.js';
import type { AdminContext } from '../routes.js';
import { sendPage } from '../routes.js';
import { createSession, deleteSession, findSession } from '../sessions.js';
import { loginPage } from '../views/login.js';

export function registerLogin(scope: FastifyInstance, { deps, options }: AdminContext): void {
  // Secure when the public URL is https, or when this request came over HTTPS as Fastify sees it: the socket,
  // or X-Forwarded-Proto when TRUST_PROXY is on (TLS ending at a proxy in front of us).
  const secureFor = (request: FastifyRequest) => options.secureCookies || request.protocol === 'https';

  scope.get<{ Querystring: { next?: string; bye?: string } }>('/login', async (request, reply) => {
    const token = signedCookie(request, SESSION_COOKIE);
    if (token && (await findSession(deps.db, token, options.sessionTtlMs))) {
      return reply.redirect(safeNext(request.query.next), 303);
    }
    const csrfToken = issueLoginCsrf(reply, secureFor(request));
    return sendPage(
      reply,
      loginPage({
        csrfToken,
        next: safeNext(request.query.next),
        info: request.query.bye ? 'You are signed out.' : undefined,
      }),
    );
  });

  scope.post('/login', async (request, reply) => {
    const username = (formField(request.body, 'username') ?? '').trim();
    const password = formField(request.body, 'password') ?? '';
    const next = safeNext(formField(request.body, 'next'));
    const secure = secureFor(request);
    const again = (status: number, error: string) =>
      sendPage(reply, loginPage({ csrfToken: issueLoginCsrf(reply, secure), next, username, error }), status);

    if (!loginCsrfValid(request)) {
      request.log.warn({ ip: request.ip }, 'admin login refused: bad CSRF token');
      return again(403, 'The sign-in form expired. Please try again.');
    }
    if (username === '' || password === '') return again(400, 'Enter your username and password.');

    // One row per wrong password, and one when a lockout begins; attempts refused during a lockout are only
    // logged, so a client hammering a locked name cannot fill the audit log.
    const failed = (reason: 'wrong-credentials', lockedOut: boolean) =>
      audit(deps, {
        // The typed name, cut to the longest valid username: the form is the stranger's input.
        actor: { kind: 'user', id: null, name: username.slice(0, 150), role: 'viewer', ip: request.ip },
        action: 'login.failure',
        details: { username: username.slice(0, 150), reason, ...(lockedOut ? { lockedOut: true } : {}) },
      });

    // Failures are counted per client IP and username; reaching the limit sets a block for one window, which
    // every attempt checks first. A hit with limit 0 only reads (both limiter adapters never record a denied
    // hit), so a successful sign-in costs nothing and only wrong passwords lead to a lockout.
    const key = `admin-login:${request.ip}:${username.toLowerCase()}`;
    const { max, windowSeconds } = options.loginLimit;
    const block = await deps.limiter.hit(`${key}:blocked`, 0, windowSeconds);
    if (block.resetMs > 0) {
      const minutes = Math.max(1, Math.ceil(block.resetMs / 60_000));
      request.log.warn({ ip: request.ip, username }, 'admin login rate limited');
      void reply.header('retry-after', String(Math.max(1, Math.ceil(block.resetMs / 1000))));
      return again(
        429,
        `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      );
    }

    const user = await authenticateAdmin(deps.db, username, password);
    if (!user) {
      const failures = await deps.limiter.hit(`${key}:failed`, max, windowSeconds);
      const lockedOut = !failures.allowed || failures.remaining === 0;
      if (lockedOut) await deps.limiter.hit(`${key}:blocked`, 1, windowSeconds);
      request.log.warn({ ip: request.ip, username }, 'admin login failed');
      await failed('wrong-credentials', lockedOut);
      return again(401, 'Wrong username or password.');
    }
    // A new session on every login (no fixation); an old one from this browser ends.
    const previous = signedCookie(request, SESSION_COOKIE);
    if (previous) await deleteSession(deps.db, previous);
    const { token } = await createSession(deps.db, {
      userId: user.id,
      ttlMs: options.sessionTtlMs,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
    });
    request.log.info({ ip: request.ip, username }, 'admin login');
    await audit(deps, {
      actor: { kind: 'user', id: user.id, name: user.username, role: user.role, ip: request.ip },
      action: 'login.success',
      target: { type: 'account', id: user.id },
    });
    return reply
      .setCookie(SESSION_COOKIE, token, sessionCookieOptions(secure))
      .clearCookie(LOGIN_CSRF_COOKIE, { path: '/admin/login' })
      .redirect(next, 303);
  });
}

/** POST /admin/logout, registered with the pages (it needs the session and its CSRF token). */
export function registerLogout(scope: FastifyInstance, { deps }: AdminContext): void {
  scope.post('/logout', async (request, reply) => {
    const session = sessionOf(request);
    const token = signedCookie(request, SESSION_COOKIE);
    if (token) await deleteSession(deps.db, token);
    request.log.info({ username: session.username }, 'admin logout');
    await audit(deps, {
      actor: actorOf(request),
      action: 'logout',
      target: { type: 'account', id: session.userId },
    });
    return reply.clearCookie(SESSION_COOKIE, { path: '/admin' }).redirect('/admin/login?bye=1', 303);
  });
}
