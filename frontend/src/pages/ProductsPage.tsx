import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { CreateProductMutation, ProductsQuery } from '../queries';
import { fieldErrors } from '../lib';
import { ErrorBox, Field, GateStatus, Loading } from '../components/ui';
import { SEVERITIES } from '../components/ThresholdsFields';

export function ProductsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProductsQuery });
  const [create, createProduct] = useMutation(CreateProductMutation);
  const [name, setName] = useState('');
  const [groupId, setGroupId] = useState('');
  const errors = fieldErrors(create.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const result = await createProduct({ input: { name, productGroupId: groupId || null } });
    if (!result.error) {
      setName('');
      refetch({ requestPolicy: 'network-only' });
    }
  }

  return (
    <section>
      <h1>Products</h1>
      <ErrorBox message={error?.message} />
      {fetching && !data && <Loading />}
      {data && data.products.length === 0 && <p className="empty">You are not a member of any product yet.</p>}
      {data && data.products.length > 0 && (
        <div className="table-wrap">
          <table className="products">
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Group</th>
                <th scope="col">Security gate</th>
                {SEVERITIES.map((s) => (
                  <th scope="col" key={s} className="num">
                    {s.charAt(0).toUpperCase() + s.slice(1)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.products.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link to={`/products/${p.id}`}>{p.name}</Link>
                  </td>
                  <td>{p.productGroup?.name ?? <span className="muted">—</span>}</td>
                  <td>
                    <GateStatus status={p.securityGate} />
                  </td>
                  {SEVERITIES.map((s) => (
                    <td key={s} className="num">
                      {p.openObservationCounts[s] ?? 0}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">Counts are open observations per severity.</p>
        </div>
      )}
      <form className="card inline-form" onSubmit={submit} aria-label="New product">
        <h2>New product</h2>
        <ErrorBox message={errors.form} />
        <Field id="new-product-name" label="Name" error={errors.name}>
          <input id="new-product-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="new-product-group" label="Product group" error={errors.productGroupId}>
          <select id="new-product-group" value={groupId} onChange={(e) => setGroupId(e.target.value)}>
            <option value="">None</option>
            {data?.productGroups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" className="primary" disabled={create.fetching}>
          Create product
        </button>
      </form>
    </section>
  );
}
