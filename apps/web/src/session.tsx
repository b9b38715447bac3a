// Signing in with a token. The token lives for this tab only (sessionStorage, never a URL or
// localStorage). A session is its own tRPC client (the SDK authenticates its streams with
// single-use tickets) and its own QueryClient, so signing out forgets everything it read.
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { createDropwatchClient, type AppRouter, type DropwatchClient } from '@dropwatch/client';
import { errorCode, errorText } from './format';
import { AccountTRPCProvider } from './trpc';

const TOKEN_KEY = 'dropwatch.token';
/** Notifications listed (and read at sign-in) at most. */
export const NOTIFICATIONS_MAX = 50;

interface Session {
  readonly client: DropwatchClient;
  readonly queryClient: QueryClient;
}

interface SessionState {
  readonly session: Session | null;
  /** 'checking' while a token is being tried. */
  readonly pending: boolean;
  /** The account's one message line: sign-in failures and failed account actions ('' when none). */
  readonly message: string;
  readonly setMessage: (text: string) => void;
  readonly signIn: (token: string) => void;
  readonly signOut: () => void;
}

const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionProvider>');
  return s;
}

function newQueryClient(): QueryClient {
  // Account data changes by this user's own actions (which invalidate it) or live streams.
  return new QueryClient({ defaultOptions: { queries: { staleTime: 30_000, retry: 1 } } });
}

export function SessionProvider({ url, children }: { url: string; children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [pending, setPending] = useState(false);
  const [message, setMessage] = useState('');

  const signOut = useCallback(() => {
    sessionStorage.removeItem(TOKEN_KEY);
    setSession((s) => {
      s?.queryClient.clear();
      return null;
    });
  }, []);

  const signIn = useCallback(
    (token: string) => {
      signOut();
      const client = createDropwatchClient({ url, token });
      const queryClient = newQueryClient();
      const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });
      setPending(true);
      setMessage('Signing in…');
      // What the account view shows first, read once here: it also proves the token works.
      Promise.all([
        queryClient.fetchQuery(trpc.watches.list.queryOptions()),
        queryClient.fetchQuery(trpc.notifications.list.queryOptions({ limit: NOTIFICATIONS_MAX })),
      ]).then(
        () => {
          sessionStorage.setItem(TOKEN_KEY, token);
          setSession({ client, queryClient });
          setMessage('');
          setPending(false);
        },
        (err: unknown) => {
          sessionStorage.removeItem(TOKEN_KEY);
          setMessage(
            errorCode(err) === 'UNAUTHORIZED'
              ? 'That token is not valid (unknown or revoked).'
              : `Could not sign in: ${errorText(err)}`,
          );
          setPending(false);
        },
      );
    },
    [url, signOut],
  );

  useEffect(() => {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved);
  }, [signIn]);

  const value = useMemo(
    () => ({ session, pending, message, setMessage, signIn, signOut }),
    [session, pending, message, signIn, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

/**
 * The account's tRPC client and cache for everything below. The tree's shape does not change
 * when someone signs in or out (only these providers' values do), so the live feed and its
 * highlights stay on screen. Signed out, the account context holds the anonymous client, and
 * nothing calls it: account views render only with a session.
 */
export function AccountProviders({
  anonymous,
  publicQueryClient,
  children,
}: {
  anonymous: DropwatchClient;
  publicQueryClient: QueryClient;
  children: ReactNode;
}) {
  const { session } = useSession();
  const queryClient = session?.queryClient ?? publicQueryClient;
  return (
    <QueryClientProvider client={queryClient}>
      <AccountTRPCProvider trpcClient={session?.client ?? anonymous} queryClient={queryClient}>
        {children}
      </AccountTRPCProvider>
    </QueryClientProvider>
  );
}
