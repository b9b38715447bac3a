import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: {
    page: number;
    per_page: number;
    slot_filter: { day: string; party_size: number; time_filter: string };
    geo: { bounding_box: number[] };
  };
  readonly at: number;
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse, index: number) => void;

/** A stand-in for Resy's search endpoint on 127.0.0.1 whose answers each test scripts. */
export async function startFakeResy(handler: FakeHandler) {
  const requests: RecordedRequest[] = [];
  let current = handler;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as RecordedRequest['body'],
        at: Date.now(),
      };
      requests.push(recorded);
      current(recorded, res, requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler(h: FakeHandler) {
      current = h;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A venue hit in the flat shape with slots at the given local starts. */
export function flatHit(id: number, name: string, starts: string[] | null) {
  return {
    id: { resy: id },
    name,
    url_slug: name.toLowerCase().replaceAll(' ', '-'),
    location: { neighborhood: 'Nolita' },
    cuisine: ['Italian'],
    price_range: 3,
    rating: 4.6,
    images: [`https://img.test/${id}.jpg`],
    availability:
      starts === null
        ? null
        : {
            slots: starts.map((s, i) => ({
              date: { start: s },
              config: { id: i, token: `t${i}`, type: 'Dining Room' },
            })),
          },
  };
}

/** The same venue nested under hit.venue, id as a number. */
export function nestedHit(id: number, name: string, starts: string[]) {
  return {
    venue: { id, name, neighborhood: 'SoHo', cuisine: 'French' },
    availability: { slots: starts.map((s) => ({ date: { start: s }, config: { id: 1, token: 'x', type: 'Bar' } })) },
  };
}
