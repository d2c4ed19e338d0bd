// A stand-in for the urql client in component tests: answers queries and
// mutations from functions and records what was asked.
import { vi } from 'vitest';
import { fromValue, never } from 'wonka';
import { print } from 'graphql';
import type { Client, GraphQLRequest } from 'urql';
import { CombinedError } from 'urql';

type Answer = (variables: Record<string, unknown>) => { data?: unknown; error?: CombinedError };

export function mockClient(answers: Record<string, Answer>) {
  const calls: { name: string; variables: Record<string, unknown> }[] = [];
  const answer = (request: GraphQLRequest) => {
    const match = print(request.query).match(/^(?:query|mutation|subscription)\s+(\w+)/m);
    const name = match?.[1] ?? '?';
    const variables = (request.variables ?? {}) as Record<string, unknown>;
    calls.push({ name, variables });
    const fn = answers[name];
    const result = fn ? fn(variables) : { data: undefined };
    return fromValue({ operation: { ...request, kind: 'query', context: {} }, stale: false, hasNext: false, ...result });
  };
  const client = {
    executeQuery: vi.fn(answer),
    executeMutation: vi.fn(answer),
    executeSubscription: vi.fn(() => never),
    subscription: vi.fn(() => ({ subscribe: () => ({ unsubscribe() {} }) })),
    query: vi.fn((query, variables) => ({ toPromise: () => Promise.resolve({ data: answers[String(query)]?.(variables)?.data }) })),
    suspense: false,
  } as unknown as Client;
  return { client, calls };
}

/** A BAD_USER_INPUT error as Herald sends it. */
export function badInput(field: string, reason: string): CombinedError {
  return new CombinedError({
    graphQLErrors: [{ message: `${field}: ${reason}`, extensions: { code: 'BAD_USER_INPUT', field } }],
  });
}
