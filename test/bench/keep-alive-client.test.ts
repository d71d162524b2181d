import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveClient, headerValueAt } from '../../bench/serve/keep-alive-client.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function get(client: KeepAliveClient, path: string): Promise<number> {
  return new Promise((resolve) => client.get(client.requests(1, () => path)(0), resolve));
}

describe('the keep-alive client of the serving benchmark', () => {
  it('finds a header value whatever the case of its name, and nothing in the status line or body', () => {
    const head = Buffer.from(
      'HTTP/1.1 200 OK\r\nX-Content-Length: 5\r\nCONTENT-LENGTH:  42\r\n\r\ncontent-length: 7',
    );
    const end = head.indexOf('\r\n\r\n');
    const at = headerValueAt(head, end, Buffer.from('content-length:'));
    expect(head.toString('latin1', at, at + 2)).toBe('42');
    expect(headerValueAt(head, end, Buffer.from('transfer-encoding:'))).toBe(-1);
  });

  it('reads answers with a length or chunked, with their status, many over few connections', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-length': '9' }).end('not found');
      } else if (req.url?.startsWith('/chunked')) {
        res.writeHead(200);
        res.write('a'.repeat(70_000));
        setTimeout(() => res.end('b'.repeat(3)), 2);
      } else {
        const body = 'x'.repeat(Number(req.url?.slice(1)));
        res.writeHead(200, { 'Content-Length': String(body.length) }).end(body);
      }
    });
    server.keepAliveTimeout = 60_000;
    const client = new KeepAliveClient(await listen(server), 3);
    closers.push(async () => client.close());
    const paths = ['/0', '/10', '/missing', '/chunked', '/100000', '/chunked-2', '/3'];
    const statuses = await Promise.all([...paths, ...paths].map((p) => get(client, p)));
    expect(statuses).toEqual([...paths, ...paths].map((p) => (p === '/missing' ? 404 : 200)));
  });

  it('builds a run’s requests in one buffer, each the bytes of its GET', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-length': '2' }).end('ok');
    });
    const url = await listen(server);
    const client = new KeepAliveClient(url, 2);
    closers.push(async () => client.close());
    const paths = ['/recommend/1?k=10', '/caf%C3%A9', '/recommend/guest-33?placement=home&k=10'];
    const requests = client.requests(paths.length, (i) => paths[i]);
    const host = new URL(url).host;
    for (let i = 0; i < paths.length; i++)
      expect(requests(i).toString('latin1')).toBe(`GET ${paths[i]} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const statuses = await Promise.all(
      paths.map((_, i) => new Promise<number>((resolve) => client.get(requests(i), resolve))),
    );
    expect(statuses).toEqual([200, 200, 200]);
    expect(seen.sort()).toEqual([...paths].sort());
  });

  it('waits for every byte when the head and body arrive in pieces', async () => {
    const pieces = ['HTTP/1.1 201 Created\r\nConte', 'nt-Length: 10\r\n', '\r\n01234', '56789'];
    const sockets: net.Socket[] = [];
    let sent = 0;
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', () => {
        // One piece now and the rest on demand, so the test sees what the client does in between.
        socket.write(pieces[sent++]);
      });
    });
    const client = new KeepAliveClient(await listen(server), 1);
    closers.push(async () => {
      client.close();
      for (const s of sockets) s.destroy();
    });
    let status = -1;
    client.get(client.requests(1, () => '/')(0), (s) => (status = s));
    while (sent < pieces.length) {
      await new Promise((r) => setTimeout(r, 20));
      expect(status).toBe(-1);
      sockets[0].write(pieces[sent++]);
    }
    for (let i = 0; i < 50 && status === -1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(status).toBe(201);
  });
});
