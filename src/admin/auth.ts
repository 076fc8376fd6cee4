/**
 * Who is asking, and whether a form really comes from our page. The session cookie is signed, httpOnly,
 * SameSite=Lax and Secure behind https; it carries only a random token that is looked up in admin_sessions.
 * Every POST carries the session's synchroniser token (CSRF); the login form, which has no session yet, uses
 * a signed double-submit cookie instead.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/connect.js';
import { AppError } from '../domain/errors.js';
import type { Actor, Permission } from '../domain/roles.js';
import { requirePermission } from '../inbox/permission.js';
import { findSession, newToken, type AdminSession } from './sessions.js';

export const SESSION_COOKIE = 'chatbot_admin';
export const LOGIN_CSRF_COOKIE = 'chatbot_admin_login';
export const CSRF_FIELD = '_csrf';

const sessions = new WeakMap<FastifyRequest, AdminSession>();

/** The session of a request that passed requireSession. */
export function sessionOf(request: FastifyRequest): AdminSession {
  const session = sessions.get(request);
  if (!session) throw new AppError('unauthorized', 'no admin session');
  return session;
}

/** Who acts in a request that passed requireSession: the use cases check the role and audit this actor. */
export function actorOf(request: FastifyRequest): Actor {
  const session = sessionOf(request);
  return { kind: 'user', id: session.userId, name: session.username, role: session.role, ip: request.ip };
}

/** Throws `forbidden` (a 403 page) unless the signed-in operator's role holds the permission. */
export function requireRole(request: FastifyRequest, permission: Permission): void {
  requirePermission(actorOf(request), permission);
}

/** The session when the request has passed requireSession, else undefined (login and error pages). */
export function sessionOfOptional(request: FastifyRequest): AdminSession | undefined {
  return sessions.get(request);
}

export function equalTokens(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The unsigned value of a signed cookie, or null when it is missing or its signature is wrong. */
export function signedCookie(request: FastifyRequest, name: string): string | null {
  const value = request.cookies[name];
  if (!value) return null;
  const result = request.unsignCookie(value);
  return result.valid ? result.value : null;
}

export function sessionCookieOptions(secure: boolean) {
  return { path: '/admin', httpOnly: true, sameSite: 'lax', secure, signed: true } as const;
}

/** Where to go after logging in: only a path inside the admin, so the parameter cannot send anyone away. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/admin\/[^/\\]/.test(next) && !next.includes('//') ? next : '/admin/';
}

/**
 * preHandler for every page but the login: a request without a live session is sent to the login page (the
 * page asked for is kept in `next` for GETs); a POST must carry the session's CSRF token.
 */
export function requireSession(options: { db: Db; ttlMs: number }) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const token = signedCookie(request, SESSION_COOKIE);
    const session = token ? await findSession(options.db, token, options.ttlMs) : null;
    if (!session) {
      const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
      return reply.redirect(`/admin/login${next}`, 303);
    }
    sessions.set(request, session);
    if (request.method === 'POST') {
      const sent = formField(request.body, CSRF_FIELD);
      if (!sent || !equalTokens(sent, session.csrfToken)) {
        request.log.warn({ url: request.url, user: session.username }, 'admin form refused: bad CSRF token');
        throw new AppError('unauthorized', 'the form did not come from this admin page or has expired', {
          code: 'csrf',
        });
      }
    }
    return undefined;
  };
}

/** A fresh login-form token, set as a signed cookie and returned for the hidden field. */
export function issueLoginCsrf(reply: FastifyReply, secure: boolean): string {
  const token = newToken();
  void reply.setCookie(LOGIN_CSRF_COOKIE, token, {
    path: '/admin/login',
    httpOnly: true,
    sameSite: 'strict',
    secure,
    signed: true,
    maxAge: 3600,
  });
  return token;
}

export function loginCsrfValid(request: FastifyRequest): boolean {
  const expected = signedCookie(request, LOGIN_CSRF_COOKIE);
  const sent = formField(request.body, CSRF_FIELD);
  return expected !== null && sent !== null && equalTokens(sent, expected);
}

/** One text field of a parsed form (the first when repeated), or null. */
export function formField(body: unknown, name: string): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const value = (body as Record<string, unknown>)[name];
  const first = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof first === 'string' ? first : null;
}
