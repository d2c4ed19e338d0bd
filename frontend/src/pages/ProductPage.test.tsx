import { describe, expect, it } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ProductPage } from './ProductPage';
import { badInput, mockClient } from '../test/mockClient';
import { renderPage } from '../test/render';

const counts = { critical: 1, high: 0, medium: 0, low: 2, none: 0, unknown: 0 };

function product(myRole: string) {
  return {
    product: {
      id: '7',
      name: 'Payments',
      description: null,
      securityGate: 'FAILED',
      securityGateActive: true,
      myRole,
      productGroup: null,
      thresholds: { critical: 0, high: 0, medium: null, low: null, none: null, unknown: null },
      openObservationCounts: counts,
      notificationEmailTo: ['sec@example.com'],
      notificationMsTeamsWebhook: null,
      notificationSlackWebhook: 'https://hooks.slack.com/services/T0/B0/secret',
      members: [{ role: myRole, user: { id: '2', username: 'alice', fullName: null } }],
      observations: [
        { id: '1', title: 'CVE-2026-0001 in openssl', severity: 'CRITICAL', status: 'OPEN', scanner: 'trivy', updatedAt: new Date().toISOString() },
      ],
    },
    notifications: { edges: [{ node: { id: '9', name: 'Security gate has changed to Failed', createdAt: new Date().toISOString(), viewed: false } }] },
  };
}

describe('ProductPage', () => {
  it('shows the gate in words, the counts, observations and gate history', async () => {
    const { client } = mockClient({ Product: () => ({ data: product('READER') }) });
    renderPage(<ProductPage />, { client, url: '/products/7', path: '/products/:id' });
    await screen.findByRole('heading', { name: 'Payments' });
    expect(screen.getByTestId('gate-status')).toHaveTextContent('Failed');
    expect(screen.getByText('CVE-2026-0001 in openssl')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Security gate has changed to Failed' })).toHaveAttribute('href', '/notifications/9');
    // A reader may not edit.
    expect(screen.queryByRole('form', { name: 'Gate and notification settings' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove' })).toBeNull();
  });

  it('shows BAD_USER_INPUT errors beside their fields', async () => {
    const user = userEvent.setup();
    const { client, calls } = mockClient({
      Product: () => ({ data: product('MAINTAINER') }),
      UpdateProduct: (v) =>
        (v.input as { thresholds: { critical: number } }).thresholds.critical > 999999
          ? { error: badInput('thresholds.critical', 'must be between 0 and 999999') }
          : { error: badInput('notificationEmailTo', '"nope" is not an email address') },
    });
    renderPage(<ProductPage />, { client, url: '/products/7', path: '/products/:id' });
    const emails = await screen.findByLabelText('Email recipients');
    await user.clear(emails);
    await user.type(emails, 'sec@example.com, nope');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    const error = await screen.findByText('"nope" is not an email address');
    expect(error.id).toBe('email-to-error');
    expect(emails).toHaveAttribute('aria-invalid', 'true');
    const input = calls.find((c) => c.name === 'UpdateProduct')!.variables.input as Record<string, unknown>;
    expect(input.notificationEmailTo).toEqual(['sec@example.com', 'nope']);
    // The webhook was not touched, so it is not sent back.
    expect(input).not.toHaveProperty('notificationSlackWebhook');

    await user.clear(screen.getByLabelText('Critical'));
    await user.type(screen.getByLabelText('Critical'), '1000000');
    await user.click(screen.getByRole('button', { name: 'Save settings' }));
    expect(await screen.findByText('must be between 0 and 999999')).toHaveAttribute('id', 'product-threshold-critical-error');
    expect(screen.queryByText('"nope" is not an email address')).toBeNull();
  });
});
