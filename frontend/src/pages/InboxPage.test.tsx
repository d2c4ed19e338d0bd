import { describe, expect, it } from 'vitest';
import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { InboxPage, RESUBSCRIBE_DELAY_MS } from './InboxPage';
import { CombinedError } from 'urql';
import { mockClient } from '../test/mockClient';
import { lastLocation, renderPage } from '../test/render';

function node(id: string, name: string, role: string | null, viewed = false) {
  return {
    id,
    type: 'SECURITY_GATE',
    name,
    message: null,
    createdAt: new Date().toISOString(),
    viewed,
    product: { id: '7', name: 'Payments', myRole: role },
  };
}

function inbox(nodes: ReturnType<typeof node>[]) {
  return mockClient({
    Notifications: () => ({
      data: {
        notifications: {
          totalCount: nodes.length,
          pageInfo: { hasNextPage: true, endCursor: 'cursor-25' },
          edges: nodes.map((n) => ({ cursor: `c${n.id}`, node: n })),
        },
      },
    }),
    ProductNames: () => ({ data: { products: [{ id: '7', name: 'Payments' }, { id: '8', name: 'Ledger' }] } }),
    MarkViewed: () => ({ data: { markNotificationsViewed: 1 } }),
  });
}

describe('InboxPage', () => {
  it('reads its filters from the URL and asks for 25, unviewed only by default', async () => {
    const { client, calls } = inbox([node('1', 'Security gate has changed to Failed', 'OWNER')]);
    renderPage(<InboxPage />, { client, url: '/?type=TASK&q=zlib' });
    await screen.findByText('Security gate has changed to Failed');
    expect(screen.getByLabelText('Type')).toHaveValue('TASK');
    expect(screen.getByLabelText('Text')).toHaveValue('zlib');
    expect(screen.getByLabelText('Unviewed only')).toBeChecked();
    const query = calls.find((c) => c.name === 'Notifications')!;
    expect(query.variables).toEqual({
      filter: { type: 'TASK', productId: null, search: 'zlib', unviewedOnly: true },
      first: 25,
      after: null,
    });
  });

  it('writes filter changes and paging into the URL', async () => {
    const user = userEvent.setup();
    const { client, calls } = inbox([node('1', 'Gate changed', 'READER')]);
    renderPage(<InboxPage />, { client, url: '/' });
    await screen.findByText('Gate changed');
    await user.selectOptions(screen.getByLabelText('Product'), '8');
    await waitFor(() => expect(lastLocation.search).toBe('?product=8'));
    await user.click(screen.getByLabelText('Unviewed only'));
    await waitFor(() => expect(lastLocation.search).toBe('?product=8&unviewed=0'));
    await user.click(screen.getByRole('button', { name: 'Older →' }));
    await waitFor(() => expect(lastLocation.search).toBe('?product=8&unviewed=0&after=cursor-25'));
    expect(calls.filter((c) => c.name === 'Notifications').at(-1)!.variables).toMatchObject({
      filter: { productId: '8', unviewedOnly: false },
      after: 'cursor-25',
    });
  });

  it('offers Delete only when every selected notification may be deleted', async () => {
    const user = userEvent.setup();
    const { client } = inbox([node('1', 'Owned one', 'OWNER'), node('2', 'Read-only one', 'READER')]);
    renderPage(<InboxPage />, { client });
    await screen.findByText('Owned one');
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Mark viewed' })).toBeNull();

    await user.click(screen.getByLabelText('Select Owned one'));
    expect(screen.getByRole('button', { name: 'Delete' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Mark viewed' })).toBeInTheDocument();

    await user.click(screen.getByLabelText('Select Read-only one'));
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Mark viewed' })).toBeInTheDocument();
  });

  it('reloads and subscribes again when the server ends a live stream', async () => {
    const { client, calls } = inbox([node('1', 'Gate changed', 'READER')]);
    const sinks: ((result: { error?: CombinedError }) => void)[] = [];
    (client.subscription as unknown as { mockImplementation: (f: unknown) => void }).mockImplementation(() => ({
      subscribe: (sink: (result: { error?: CombinedError }) => void) => {
        sinks.push(sink);
        return { unsubscribe() {} };
      },
    }));
    renderPage(<InboxPage />, { client, url: '/' });
    await screen.findByText('Gate changed');
    expect(sinks).toHaveLength(2);
    const loadsBefore = calls.filter((c) => c.name === 'Notifications').length;
    // The server's "fell behind" error ends the notificationCreated stream.
    act(() => sinks[0]({ error: new CombinedError({ graphQLErrors: [{ message: 'fell behind' }] }) }));
    await waitFor(() => expect(calls.filter((c) => c.name === 'Notifications').length).toBeGreaterThan(loadsBefore));
    // Both streams are opened again after the delay.
    await waitFor(() => expect(sinks).toHaveLength(4), { timeout: RESUBSCRIBE_DELAY_MS + 2000 });
  });

  it('marks the selection viewed and shows the chip change', async () => {
    const user = userEvent.setup();
    const { client, calls } = inbox([node('1', 'Gate changed', 'READER')]);
    renderPage(<InboxPage />, { client, url: '/?unviewed=0' });
    await screen.findByText('Gate changed');
    expect(screen.getByText('New')).toBeInTheDocument();
    await user.click(screen.getByLabelText('Select Gate changed'));
    await user.click(screen.getByRole('button', { name: 'Mark viewed' }));
    await screen.findByText('Marked 1 as viewed.');
    expect(calls.find((c) => c.name === 'MarkViewed')!.variables).toEqual({ ids: ['1'] });
  });
});
