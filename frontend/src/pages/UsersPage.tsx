import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { CreateUserMutation, UsersQuery } from '../queries';
import { fieldErrors } from '../lib';
import { ErrorBox, Field, Loading } from '../components/ui';

export function UsersPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: UsersQuery });
  const [state, createUser] = useMutation(CreateUserMutation);
  const [form, setForm] = useState({ username: '', email: '', fullName: '', password: '', isAdmin: false });
  const [message, setMessage] = useState<string | null>(null);
  const errors = fieldErrors(state.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setMessage(null);
    const result = await createUser({
      input: { ...form, email: form.email || null, fullName: form.fullName || null },
    });
    if (!result.error) {
      setMessage(`User ${form.username} created.`);
      setForm({ username: '', email: '', fullName: '', password: '', isAdmin: false });
      refetch({ requestPolicy: 'network-only' });
    }
  }

  return (
    <section>
      <h1>Users</h1>
      <ErrorBox message={error?.message} />
      {fetching && !data && <Loading />}
      {data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Administrator</th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.fullName ?? <span className="muted">—</span>}</td>
                  <td>{u.email ?? <span className="muted">—</span>}</td>
                  <td>{u.isAdmin ? 'Yes' : 'No'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="card" onSubmit={submit} aria-label="New user" noValidate>
        <h2>New user</h2>
        <ErrorBox message={errors.form} />
        {message && <p role="status">{message}</p>}
        <Field id="user-username" label="Username" error={errors.username}>
          <input id="user-username" required value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
        </Field>
        <Field id="user-fullname" label="Full name" error={errors.fullName}>
          <input id="user-fullname" value={form.fullName} onChange={(e) => setForm({ ...form, fullName: e.target.value })} />
        </Field>
        <Field id="user-email" label="Email" error={errors.email}>
          <input id="user-email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </Field>
        <Field id="user-password" label="Password" error={errors.password}>
          <input
            id="user-password"
            type="password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </Field>
        <div className="field checkbox">
          <input id="user-admin" type="checkbox" checked={form.isAdmin} onChange={(e) => setForm({ ...form, isAdmin: e.target.checked })} />
          <label htmlFor="user-admin">Administrator</label>
        </div>
        <button type="submit" className="primary" disabled={state.fetching}>
          Create user
        </button>
      </form>
    </section>
  );
}
