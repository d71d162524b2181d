/**
 * A lean HTTP/1.1 GET client for load generation: keep-alive connections over plain sockets, one
 * request in flight per connection, answers framed by Content-Length (or chunked encoding).
 *
 * Why not node:http: its request and response objects, streams and events cost the generator
 * about 0.25 ms of CPU per request, which on a small machine is CPU taken from the server under
 * test. This client needs a few µs per answer, as wrk does, so the figures measure the server.
 */
import net from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = 'content-length:';
const CHUNKED = /transfer-encoding:\s*chunked/;

/** Called once per request: the status code (0 when the connection failed). */
export type Done = (status: number) => void;

interface Pending {
  request: Buffer;
  done: Done;
}

/** First in, first out, without the cost of Array.shift on long queues. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes every item, oldest first. */
  *drain(): Generator<T> {
    for (let item = this.shift(); item !== undefined; item = this.shift()) yield item;
  }
}

/** One keep-alive connection; `send` only when idle. */
class Connection {
  readonly socket: net.Socket;
  private buffered: Buffer | null = null;
  private current: Done | null = null;
  private status = 0;
  /** Body bytes still expected (-1: headers not parsed yet; -2: chunked). */
  private remaining = -1;
  closed = false;

  constructor(host: string, port: number, onIdle: (c: Connection) => void, onClose: (c: Connection) => void) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      if (this.parse(chunk)) onIdle(this);
    });
    const close = () => {
      if (this.closed) return;
      this.closed = true;
      const done = this.current;
      this.current = null;
      done?.(0);
      onClose(this);
    };
    this.socket.on('error', close);
    this.socket.on('close', close);
  }

  get busy(): boolean {
    return this.current !== null;
  }

  send(request: Buffer, done: Done): void {
    this.current = done;
    this.remaining = -1;
    this.buffered = null;
    this.socket.write(request);
  }

  /** Consumes a chunk; true once the answer in flight is complete. */
  private parse(chunk: Buffer): boolean {
    let data = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    this.buffered = null;
    if (this.remaining === -1) {
      const end = data.indexOf(HEADER_END);
      if (end < 0) {
        this.buffered = data;
        return false;
      }
      // "HTTP/1.1 200 OK": the status is at bytes 9..11.
      this.status = (data[9] - 48) * 100 + (data[10] - 48) * 10 + (data[11] - 48);
      const head = data.toString('latin1', 0, end).toLowerCase();
      const at = head.indexOf(CONTENT_LENGTH);
      if (at >= 0) this.remaining = parseInt(head.slice(at + CONTENT_LENGTH.length), 10);
      else if (CHUNKED.test(head)) this.remaining = -2;
      else this.remaining = 0;
      data = data.subarray(end + HEADER_END.length);
    }
    if (this.remaining === -2) {
      // Chunked: complete once the zero-length last chunk and its empty trailer arrived.
      const all = data;
      if (all.length >= 5 && all.toString('latin1', all.length - 5) === '0\r\n\r\n') return this.finish();
      this.buffered = all;
      return false;
    }
    this.remaining -= data.length;
    return this.remaining <= 0 ? this.finish() : false;
  }

  private finish(): boolean {
    const done = this.current;
    this.current = null;
    done?.(this.status);
    return true;
  }
}

/**
 * Up to `maxConnections` keep-alive connections to one server. A request takes the connection
 * idle longest (first in, first out), as from many clients, so a multi-process server that
 * balances connections sees the load spread over them; with none idle it opens one, or waits.
 */
export class KeepAliveClient {
  private readonly idle = new Fifo<Connection>();
  private readonly queue = new Fifo<Pending>();
  private open = 0;
  private readonly host: string;
  private readonly port: number;

  constructor(
    url: string,
    private readonly maxConnections = 64,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    // All connections up front: a multi-process server deals connections out in turn, so each
    // worker gets its share of them whatever the load, rather than whichever opened under a burst.
    for (let i = 0; i < maxConnections; i++) this.idle.push(this.connect());
  }

  /** The bytes of a GET of `path` (build once per path when paths repeat). */
  request(path: string): Buffer {
    return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n\r\n`, 'latin1');
  }

  get(request: Buffer, done: Done): void {
    const c = this.takeIdle();
    if (c) c.send(request, done);
    else if (this.open < this.maxConnections) this.connect().send(request, done);
    else this.queue.push({ request, done });
  }

  close(): void {
    for (const c of this.idle.drain()) c.socket.destroy();
  }

  private connect(): Connection {
    this.open++;
    return new Connection(
      this.host,
      this.port,
      (c) => this.released(c),
      () => {
        this.open--;
        // A request waiting for a connection gets a new one.
        if (this.open < this.maxConnections) {
          const p = this.queue.shift();
          if (p) this.connect().send(p.request, p.done);
        }
      },
    );
  }

  private released(c: Connection): void {
    const p = this.queue.shift();
    if (p) c.send(p.request, p.done);
    else this.idle.push(c);
  }

  private takeIdle(): Connection | undefined {
    for (const c of this.idle.drain()) if (!c.closed && !c.busy) return c;
    return undefined;
  }
}
