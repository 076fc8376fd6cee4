/**
 * Who may do what. Operator accounts and API tokens carry one role; every use case that changes or reads
 * conversations asks `can(role, permission)` first, so the admin UI and the HTTP API enforce the same rules.
 */
export const ROLES = ['admin', 'agent', 'viewer'] as const;

export type OperatorRole = (typeof ROLES)[number];

export function isRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What each permission allows, and which roles hold it. `admin` holds every permission. */
export const PERMISSIONS = {
  'conversations.read': ['admin', 'agent', 'viewer'],
  'conversations.reply': ['admin', 'agent'],
  'conversations.mode': ['admin', 'agent'],
  'conversations.assign': ['admin', 'agent'],
  'conversations.note': ['admin', 'agent'],
  /** Forget the model's context (the messages stay): changes what the bot says next, so admins only. */
  'conversations.reset': ['admin'],
  'settings.manage': ['admin'],
  /** The webhook logs hold raw message bodies and numbers of every conversation, unfiltered: admins only. */
  'webhooks.read': ['admin'],
  'audit.read': ['admin'],
  'accounts.manage': ['admin'],
  /** Export or erase everything held about one person (data rights): every conversation of theirs, unfiltered. */
  'data.rights': ['admin'],
} as const satisfies Record<string, readonly OperatorRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: OperatorRole, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly OperatorRole[]).includes(role);
}

/**
 * Who did something, as the audit log and an operator's message record it: an admin account, an API token,
 * the CLI run on the server, or the system itself (the idle timer, the keyword trigger, the model).
 */
export interface Actor {
  kind: 'user' | 'token' | 'cli' | 'system';
  /** The account's or token's id; null for the CLI and the system. */
  id: string | null;
  /** A name an operator recognises: the username, `token <name>`, `cli`, `system`. */
  name: string;
  role: OperatorRole;
  /** The client's address for requests (the proxy-aware one), null otherwise. */
  ip: string | null;
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', id: null, name: 'system', role: 'admin', ip: null };
export const CLI_ACTOR: Actor = { kind: 'cli', id: null, name: 'cli', role: 'admin', ip: null };
