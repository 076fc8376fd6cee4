import { AppError } from '../domain/errors.js';
import { can, type Actor, type Permission } from '../domain/roles.js';

/** Throws `forbidden` (403) unless the actor's role holds the permission. */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (!can(actor.role, permission)) {
    throw new AppError('forbidden', `the ${actor.role} role may not do this (${permission})`);
  }
}
