// The public data's cache (feed, board, heat-map, venues). Public views pass it to useQuery
// explicitly, so it survives signing in and out (the account has a QueryClient of its own).
import { QueryClient } from '@tanstack/react-query';

export const publicQueryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});
