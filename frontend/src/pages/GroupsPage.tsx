import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { CreateProductGroupMutation, ProductGroupsQuery } from '../queries';
import { fieldErrors } from '../lib';
import { ErrorBox, Field, GateStatus, Loading } from '../components/ui';

export function GroupsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProductGroupsQuery });
  const [state, createGroup] = useMutation(CreateProductGroupMutation);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const errors = fieldErrors(state.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = await createGroup({ input: { name, description: description || null } });
    if (!result.error) {
      setName('');
      setDescription('');
      refetch({ requestPolicy: 'network-only' });
    }
  }

  return (
    <section>
      <h1>Product groups</h1>
      <ErrorBox message={error?.message} />
      {fetching && !data && <Loading />}
      {data && data.productGroups.length === 0 && <p className="empty">No product groups yet.</p>}
      {data?.productGroups.map((g) => (
        <article key={g.id} className="card">
          <h2>{g.name}</h2>
          {g.description && <p>{g.description}</p>}
          <p className="muted">
            Gate: {g.securityGateActive == null ? 'products decide' : g.securityGateActive ? 'active for all products' : 'disabled for all products'}
            {' · '}
            Members: {g.members.length === 0 ? 'none' : g.members.map((m) => `${m.user.username} (${m.role.toLowerCase()})`).join(', ')}
          </p>
          {g.products.length > 0 && (
            <ul>
              {g.products.map((p) => (
                <li key={p.id}>
                  <Link to={`/products/${p.id}`}>{p.name}</Link> <GateStatus status={p.securityGate} />
                </li>
              ))}
            </ul>
          )}
        </article>
      ))}
      <form className="card" onSubmit={submit} aria-label="New product group" noValidate>
        <h2>New product group</h2>
        <ErrorBox message={errors.form} />
        <Field id="group-name" label="Name" error={errors.name}>
          <input id="group-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="group-description" label="Description" error={errors.description}>
          <input id="group-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <button type="submit" className="primary" disabled={state.fetching}>
          Create group
        </button>
      </form>
    </section>
  );
}
