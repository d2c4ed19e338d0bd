import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { Provider, type Client } from 'urql';
import { AuthProvider } from '../auth';

export const lastLocation = { search: '', pathname: '' };

function LocationProbe() {
  const location = useLocation();
  lastLocation.search = location.search;
  lastLocation.pathname = location.pathname;
  return null;
}

/** Renders a page as the signed-in `user` at `url`, with a mocked client. */
export function renderPage(
  element: ReactElement,
  { client, url = '/', path = '/', isAdmin = false }: { client: Client; url?: string; path?: string; isAdmin?: boolean },
) {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const token = `x.${btoa(JSON.stringify({ sub: '2', exp }))}.sig`;
  localStorage.setItem('herald.session', JSON.stringify({ token, user: { id: '2', username: 'alice', isAdmin } }));
  return render(
    <MemoryRouter initialEntries={[url]}>
      <AuthProvider>
        <Provider value={client}>
          <Routes>
            <Route path={path} element={element} />
          </Routes>
          <LocationProbe />
        </Provider>
      </AuthProvider>
    </MemoryRouter>,
  );
}
