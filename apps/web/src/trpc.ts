// Two tRPC contexts over one API, both built from @dropwatch/client:
// - the public one (feed, board, heat-map, venues) reads anonymously, so its answers are the same
//   for everyone and feed.live stays cacheable by the browser (ETag / 304);
// - the account one carries the signed-in token (watches, notifications, settings, admin). It
//   has its own QueryClient, dropped on sign-out, so nothing of one token's data outlives it.
import { createTRPCContext } from '@trpc/tanstack-react-query';
import type { AppRouter } from '@dropwatch/client';

export const {
  TRPCProvider: PublicTRPCProvider,
  useTRPC: usePublicTRPC,
  useTRPCClient: usePublicClient,
} = createTRPCContext<AppRouter>();

export const {
  TRPCProvider: AccountTRPCProvider,
  useTRPC: useAccountTRPC,
  useTRPCClient: useAccountClient,
} = createTRPCContext<AppRouter>();
