import { useState, type FormEvent } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { useMutation } from 'urql';
import { useAuth } from '../auth';
import { LoginMutation } from '../queries';
import { ErrorBox, Field } from '../components/ui';

export function LoginPage() {
  const { signIn, notice } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, login] = useMutation(LoginMutation);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const result = await login({ username, password });
    if (result.data) {
      signIn({ token: result.data.login.token, user: result.data.login.user });
      const from = (location.state as { from?: string } | null)?.from;
      navigate(from && from !== '/login' ? from : '/', { replace: true });
    } else {
      setError(result.error?.graphQLErrors[0]?.message ?? 'Login failed.');
    }
  }

  return (
    <main id="main" className="login">
      <h1>Herald</h1>
      <form onSubmit={submit} className="card" aria-label="Log in">
        <h2>Log in</h2>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <ErrorBox message={error} />
        <Field id="username" label="Username">
          <input id="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </Field>
        <Field id="password" label="Password">
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </Field>
        <button type="submit" className="primary" disabled={fetching}>
          Log in
        </button>
      </form>
    </main>
  );
}
