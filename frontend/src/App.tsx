import { useEffect, useMemo } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation } from 'react-router-dom';
import { Provider, useSubscription } from 'urql';
import { EXPIRED_MESSAGE, useAuth, useUser } from './auth';
import { makeClient } from './client';
import { UnviewedCountSubscription } from './queries';
import { LoginPage } from './pages/LoginPage';
import { InboxPage } from './pages/InboxPage';
import { NotificationPage } from './pages/NotificationPage';
import { ProductsPage } from './pages/ProductsPage';
import { ProductPage } from './pages/ProductPage';
import { UsersPage } from './pages/UsersPage';
import { GroupsPage } from './pages/GroupsPage';
import { SettingsPage } from './pages/SettingsPage';

export function App() {
  const { session, signOut } = useAuth();
  const location = useLocation();
  const token = session?.token ?? null;
  const herald = useMemo(() => makeClient(token, () => signOut(EXPIRED_MESSAGE)), [token, signOut]);
  useEffect(() => () => herald.dispose(), [herald]);

  if (!session) {
    if (location.pathname !== '/login') {
      return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
    }
    return (
      <Provider value={herald.client}>
        <LoginPage />
      </Provider>
    );
  }
  return (
    <Provider value={herald.client}>
      <Layout />
    </Provider>
  );
}

function Layout() {
  const user = useUser();
  const { signOut } = useAuth();
  const [{ data }] = useSubscription({ query: UnviewedCountSubscription });
  const unviewed = data?.unviewedNotificationCount;

  useEffect(() => {
    document.title = unviewed ? `(${unviewed}) Herald` : 'Herald';
  }, [unviewed]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Herald</span>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Inbox
            {unviewed ? (
              <span className="badge" data-testid="unviewed-badge" aria-label={`${unviewed} unviewed`}>
                {unviewed}
              </span>
            ) : null}
          </NavLink>
          <NavLink to="/products">Products</NavLink>
          {user.isAdmin && (
            <>
              <NavLink to="/admin/users">Users</NavLink>
              <NavLink to="/admin/groups">Product groups</NavLink>
              <NavLink to="/admin/settings">Settings</NavLink>
            </>
          )}
        </nav>
        <span className="whoami">
          <span className="muted">{user.username}</span>
          <button type="button" className="link-button" onClick={() => signOut('You have logged out.')}>
            Log out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<InboxPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="/notifications/:id" element={<NotificationPage />} />
          <Route path="/products" element={<ProductsPage />} />
          <Route path="/products/:id" element={<ProductPage />} />
          <Route path="/admin/users" element={user.isAdmin ? <UsersPage /> : <Forbidden />} />
          <Route path="/admin/groups" element={user.isAdmin ? <GroupsPage /> : <Forbidden />} />
          <Route path="/admin/settings" element={user.isAdmin ? <SettingsPage /> : <Forbidden />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}

function Forbidden() {
  return (
    <section>
      <h1>Not allowed</h1>
      <p>This page is for administrators.</p>
    </section>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is nothing here. <NavLink to="/">Back to the inbox</NavLink>
      </p>
    </section>
  );
}
