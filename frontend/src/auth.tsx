// The session: a JWT from `login`, kept in localStorage so that it survives a
// reload, dropped on logout, on expiry and when the server says
// UNAUTHENTICATED. The token itself is never logged.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';

export interface SessionUser {
  id: string;
  username: string;
  fullName?: string | null;
  isAdmin: boolean;
}

export interface Session {
  token: string;
  user: SessionUser;
}

const KEY = 'herald.session';
export const EXPIRED_MESSAGE = 'Your session has expired. Please log in again.';

/** The `exp` claim of a JWT in milliseconds, or null when it has none. */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export function isExpired(token: string, now = Date.now()): boolean {
  const exp = tokenExpiry(token);
  return exp !== null && exp <= now;
}

function load(): { session: Session | null; notice: string | null } {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return { session: null, notice: null };
    const session = JSON.parse(raw) as Session;
    if (!session.token || !session.user) return { session: null, notice: null };
    if (isExpired(session.token)) {
      localStorage.removeItem(KEY);
      return { session: null, notice: EXPIRED_MESSAGE };
    }
    return { session, notice: null };
  } catch {
    return { session: null, notice: null };
  }
}

interface AuthValue {
  session: Session | null;
  /** Shown on the login page (why the session ended). */
  notice: string | null;
  signIn(session: Session): void;
  signOut(notice?: string): void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState(load);

  const signIn = useCallback((session: Session) => {
    localStorage.setItem(KEY, JSON.stringify(session));
    setState({ session, notice: null });
  }, []);

  const signOut = useCallback((notice?: string) => {
    localStorage.removeItem(KEY);
    setState({ session: null, notice: notice ?? null });
  }, []);

  // Another tab logged in or out.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === KEY) setState((s) => ({ ...load(), notice: e.newValue ? null : s.notice }));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  // The token runs out while the page is open.
  const token = state.session?.token;
  useEffect(() => {
    if (!token) return;
    const exp = tokenExpiry(token);
    if (exp === null) return;
    const timer = window.setTimeout(() => signOut(EXPIRED_MESSAGE), Math.max(0, Math.min(exp - Date.now(), 2 ** 31 - 1)));
    return () => window.clearTimeout(timer);
  }, [token, signOut]);

  const value = useMemo(() => ({ ...state, signIn, signOut }), [state, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** The signed-in user; only for pages behind the login. */
export function useUser(): SessionUser {
  const { session } = useAuth();
  if (!session) throw new Error('useUser without a session');
  return session.user;
}
