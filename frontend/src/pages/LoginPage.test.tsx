import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { Provider } from 'urql';
import { AuthProvider } from '../auth';
import { LoginPage } from './LoginPage';
import { mockClient } from '../test/mockClient';

describe('LoginPage', () => {
  it('says why the session ended when the stored token has expired', () => {
    const exp = Math.floor(Date.now() / 1000) - 60;
    localStorage.setItem('herald.session', JSON.stringify({ token: `x.${btoa(JSON.stringify({ exp }))}.y`, user: { id: '1', username: 'a', isAdmin: false } }));
    const { client } = mockClient({});
    render(
      <MemoryRouter>
        <AuthProvider>
          <Provider value={client}>
            <LoginPage />
          </Provider>
        </AuthProvider>
      </MemoryRouter>,
    );
    expect(screen.getByRole('status')).toHaveTextContent('Your session has expired. Please log in again.');
    expect(localStorage.getItem('herald.session')).toBeNull();
  });
});
