// The browser build of @dropwatch/client for pages that load it with a <script> tag.
import { createDropwatchClient, TRPCClientError } from '@dropwatch/client';

(globalThis as { Dropwatch?: unknown }).Dropwatch = { createDropwatchClient, TRPCClientError };
