// Small pure helpers shared by the pages (and tested on their own).
import type { CombinedError } from 'urql';
import type { NotificationType, Role } from './gql/graphql';

const ROLES: Role[] = ['READER', 'UPLOAD', 'WRITER', 'MAINTAINER', 'OWNER'];

/** Whether `role` is `least` or higher; administrators count as OWNER. */
export function roleAtLeast(role: Role | null | undefined, least: Role, isAdmin = false): boolean {
  if (isAdmin) return true;
  if (!role) return false;
  return ROLES.indexOf(role) >= ROLES.indexOf(least);
}

export const ALL_ROLES = ROLES;

/**
 * Errors of a failed mutation: `BAD_USER_INPUT` ones by their
 * `extensions.field` (e.g. `notificationEmailTo`, `thresholds.critical`),
 * everything else under `form`.
 */
export function fieldErrors(error: CombinedError | undefined | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!error) return out;
  for (const e of error.graphQLErrors) {
    const field = e.extensions?.field;
    if (e.extensions?.code === 'BAD_USER_INPUT' && typeof field === 'string') {
      // The message is "<field>: <reason>"; beside the field the reason is enough.
      out[field] = e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
    } else {
      out.form = out.form ? `${out.form}; ${e.message}` : e.message;
    }
  }
  if (error.networkError && !out.form) out.form = 'The server could not be reached.';
  return out;
}

/**
 * A delivery target as shown: email addresses as they are, webhook URLs
 * reduced to scheme and host (the path is the secret).
 */
export function maskTarget(channel: string, target: string): string {
  if (channel === 'EMAIL') return target;
  try {
    const url = new URL(target);
    return `${url.protocol}//${url.host}/…`;
  } catch {
    return '…';
  }
}

export interface InboxFilters {
  type: NotificationType | null;
  productId: string | null;
  search: string;
  unviewedOnly: boolean;
  after: string | null;
}

const TYPES: NotificationType[] = ['SECURITY_GATE', 'EXCEPTION', 'TASK'];

/** Inbox filters from the URL's query string; "unviewed only" is on unless `unviewed=0`. */
export function filtersFromParams(params: URLSearchParams): InboxFilters {
  const type = params.get('type');
  return {
    type: type && (TYPES as string[]).includes(type) ? (type as NotificationType) : null,
    productId: params.get('product') || null,
    search: params.get('q') ?? '',
    unviewedOnly: params.get('unviewed') !== '0',
    after: params.get('after') || null,
  };
}

/** The inverse of `filtersFromParams`, leaving defaults out of the URL. */
export function filtersToParams(f: InboxFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.type) p.set('type', f.type);
  if (f.productId) p.set('product', f.productId);
  if (f.search.trim()) p.set('q', f.search.trim());
  if (!f.unviewedOnly) p.set('unviewed', '0');
  if (f.after) p.set('after', f.after);
  return p;
}

export interface LiveNotification {
  type: NotificationType;
  name: string;
  message?: string | null;
  viewed: boolean;
  product?: { id: string; name: string } | null;
}

/** Whether a notification pushed live belongs in the list the filters show. */
export function matchesFilters(n: LiveNotification, f: InboxFilters): boolean {
  if (f.type && n.type !== f.type) return false;
  if (f.productId && n.product?.id !== f.productId) return false;
  if (f.unviewedOnly && n.viewed) return false;
  const q = f.search.trim().toLowerCase();
  if (q) {
    const text = [n.name, n.message ?? '', n.product?.name ?? ''].join(' ').toLowerCase();
    if (!text.includes(q)) return false;
  }
  return true;
}

export const TYPE_LABELS: Record<NotificationType, string> = {
  SECURITY_GATE: 'Security gate',
  EXCEPTION: 'Exception',
  TASK: 'Task',
};

/** "3 minutes ago", "in 2 hours". */
export function relativeTime(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  for (const [unit, ms] of units) {
    if (abs >= ms || unit === 'second') return rtf.format(Math.round(diff / ms), unit);
  }
  return '';
}

/** Local date and time with the time zone. */
export function absoluteTime(iso: string): string {
  // dateStyle/timeStyle cannot be combined with timeZoneName.
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
}
