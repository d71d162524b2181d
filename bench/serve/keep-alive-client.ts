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
const CONTENT_LENGTH = Buffer.from('content-length:', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding:', 'latin1');
const CHUNKED = Buffer.from('chunked', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
/** Bytes each connection reads into, reused for every read. */
const READ_BUFFER_BYTES = 64 * 1024;

/** Whether `data[at..]` starts with `lower`, ignoring ASCII case. */
function startsWithIgnoringCase(data: Buffer, at: number, lower: Buffer): boolean {
  if (at + lower.length > data.length) return false;
  for (let i = 0; i < lower.length; i++) if ((data[at + i] | 0x20) !== lower[i]) return false;
  return true;
}

/** Where the value of header `lower` (a lowercase name with its colon) starts in `data[0..end)`; -1 when absent. */
export function headerValueAt(data: Buffer, end: number, lower: Buffer): number {
  for (let line = data.indexOf(10) + 1; line > 0 && line < end; line = data.indexOf(10, line) + 1) {
    if (!startsWithIgnoringCase(data, line, lower)) continue;
    let at = line + lower.length;
    while (data[at] === 32 || data[at] === 9) at++;
    return at;
  }
  return -1;
}

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
  /** Header bytes of the answer in flight received so far, when its header came in pieces. */
  private buffered: Buffer | null = null;
  /** The last bytes of a chunked body received so far (`tail` of them). */
  private readonly last = Buffer.alloc(LAST_CHUNK.length);
  private tail = 0;
  private current: Done | null = null;
  private status = 0;
  /** Body bytes still expected (-1: headers not parsed yet; -2: chunked). */
  private remaining = -1;
  closed = false;

  constructor(host: string, port: number, onIdle: (c: Connection) => void, onClose: (c: Connection) => void) {
    // Reads land in one buffer per connection instead of a new one per read, so answers cost the
    // generator no allocation: its own garbage collections would otherwise show up as latency.
    this.socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (nread: number, buf: Uint8Array): boolean => {
          if (this.parse(buf as Buffer, nread)) onIdle(this);
          return true;
        },
      },
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
    this.tail = 0;
    this.socket.write(request);
  }

  /**
   * Consumes the first `nread` bytes of the read buffer; true once the answer in flight is
   * complete. Bytes still needed after this read (a header cut in two) are copied, since the
   * buffer is reused by the next read.
   */
  private parse(buf: Buffer, nread: number): boolean {
    let data = buf.subarray(0, nread);
    if (this.buffered) {
      data = Buffer.concat([this.buffered, data]);
      this.buffered = null;
    }
    if (this.remaining === -1) {
      const end = data.indexOf(HEADER_END);
      if (end < 0) {
        this.buffered = Buffer.from(data);
        return false;
      }
      // "HTTP/1.1 200 OK": the status is at bytes 9..11.
      this.status = (data[9] - 48) * 100 + (data[10] - 48) * 10 + (data[11] - 48);
      const length = headerValueAt(data, end, CONTENT_LENGTH);
      if (length >= 0) {
        let n = 0;
        for (let i = length; data[i] >= 48 && data[i] <= 57; i++) n = n * 10 + data[i] - 48;
        this.remaining = n;
      } else {
        const encoding = headerValueAt(data, end, TRANSFER_ENCODING);
        this.remaining = encoding >= 0 && startsWithIgnoringCase(data, encoding, CHUNKED) ? -2 : 0;
      }
      data = data.subarray(end + HEADER_END.length);
      this.tail = 0;
    }
    if (this.remaining === -2) return this.chunkedEnded(data) ? this.finish() : false;
    this.remaining -= data.length;
    return this.remaining <= 0 ? this.finish() : false;
  }

  /**
   * Chunked: complete once the zero-length last chunk and its empty trailer arrived. Only the
   * body's last bytes matter, so they are kept across reads instead of the whole body.
   */
  private chunkedEnded(data: Buffer): boolean {
    const keep = LAST_CHUNK.length;
    if (data.length >= keep) {
      data.copy(this.last, 0, data.length - keep);
      this.tail = keep;
    } else {
      const shift = Math.max(0, this.tail + data.length - keep);
      this.last.copyWithin(0, shift, this.tail);
      this.tail -= shift;
      data.copy(this.last, this.tail);
      this.tail += data.length;
    }
    return this.tail === keep && this.last.equals(LAST_CHUNK);
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

  /**
   * The GETs of `count` paths in one buffer, built before a run: the i-th request is a view of
   * it, so sending allocates no buffer (small Buffers come from 8 KB slabs whose churn is
   * external memory, which V8 answers with full collections).
   */
  requests(count: number, path: (i: number) => string): (i: number) => Buffer {
    const heads = Array.from({ length: count }, (_, i) => this.head(path(i)));
    const offsets = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i] + Buffer.byteLength(heads[i], 'latin1');
    const all = Buffer.allocUnsafeSlow(offsets[count]);
    for (let i = 0; i < count; i++) all.write(heads[i], offsets[i], 'latin1');
    return (i) => all.subarray(offsets[i], offsets[i + 1]);
  }

  private head(path: string): string {
    return `GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n\r\n`;
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
