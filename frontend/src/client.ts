// The urql client: queries and mutations over POST /graphql, subscriptions
// over /graphql/ws (graphql-transport-ws), both with the session token.
import { Client, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from 'urql';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

export function isUnauthenticated(error: CombinedError): boolean {
  return error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED') || error.response?.status === 401;
}

function isCloseEvent(value: unknown): value is CloseEvent {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

export interface HeraldClient {
  client: Client;
  dispose(): void;
}

export function makeClient(token: string | null, onUnauthenticated: () => void): HeraldClient {
  let ws: WsClient | null = null;
  const exchanges = [
    mapExchange({
      onError(error) {
        if (token && isUnauthenticated(error)) onUnauthenticated();
      },
    }),
    fetchExchange,
  ];
  if (token) {
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = createWsClient({
      url: `${proto}//${window.location.host}/graphql/ws`,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: Infinity,
      shouldRetry: (event) => !(isCloseEvent(event) && event.code === 4403),
      on: {
        closed: (event) => {
          // 4403: the token was refused or ran out.
          if (isCloseEvent(event) && event.code === 4403) onUnauthenticated();
        },
      },
    });
    const wsClient = ws;
    exchanges.push(
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = wsClient.subscribe(input, {
                next: (value) => sink.next(value as Parameters<typeof sink.next>[0]),
                complete: () => sink.complete(),
                // A socket closed for good (4403: the session ended) ends the
                // subscription quietly; `on.closed` has signed out already.
                error: (error) => (isCloseEvent(error) ? sink.complete() : sink.error(error)),
              });
              return { unsubscribe };
            },
          };
        },
      }),
    );
  }
  const client = new Client({
    url: '/graphql',
    exchanges,
    requestPolicy: 'cache-and-network',
    // GET /graphql is GraphiQL; every operation is a POST.
    preferGetMethod: false,
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  // dispose() rejects when the socket had already been refused; nothing to do then.
  return { client, dispose: () => void Promise.resolve(ws?.dispose()).catch(() => {}) };
}
