import { writeSync } from 'node:fs';

/**
 * Writes ECS events as pino lines without pino's per-field serialization, when the logger is
 * configured so that the result is the same line pino would write.
 *
 * `logger.info(ecs, message)` stringifies each top-level field separately and escapes the
 * message in JavaScript: about 11 µs per event on our machine, three events per allowed request.
 * Here the event's JSON is written once (`ecsJsonBody`) and framed with the logger's own
 * prefix (level, time, bindings) and suffix. pino exposes what is needed only through symbols of
 * its instance, found here by their description; anything that could change the line (a `mixin`,
 * a `formatters.log`, hooks, redaction, a `nestedKey`, a `msgPrefix`, a serializer on one of
 * the ECS fields, a multistream) keeps the sink on `logger.info` / `logger.warn`. A test compares
 * both paths byte for byte.
 *
 * @internal
 */
export interface FastPinoLine {
  /**
   * Writes one line at `level`, or nothing when the logger's level hides it. Returns a promise
   * while the destination is backed up (its `write` answered `false`), settled on its `drain`:
   * the caller writes nothing more until then.
   */
  write(level: 'info' | 'warn', body: string, message: string): Promise<void> | undefined;
}

/** Top-level fields of an ECS event: a pino serializer on any of them must run. */
const ECS_FIELDS = [
  '@timestamp',
  'ecs',
  'log',
  'message',
  'event',
  'user',
  'service',
  'source',
  'url',
  'http',
  'trace',
  'rule',
  'labels',
];

type Indexed = Record<symbol, unknown>;

/** What a SonicBoom (pino's destination) shows of its state; every field is checked before use. */
interface SonicBoomState {
  constructor?: unknown;
  fd?: unknown;
  sync?: unknown;
  destroyed?: unknown;
  write?: unknown;
  minLength?: unknown;
  retryEAGAIN?: unknown;
  _writing?: unknown;
  _len?: unknown;
  _bufs?: unknown;
  _fsync?: unknown;
  _reopening?: unknown;
  _ending?: unknown;
  emit?: (event: 'error', error: unknown) => unknown;
}

/** Largest batch encoded in the reused buffer (bytes); a longer one goes through the stream. */
const MAX_DIRECT_BYTES = 1 << 20;
/** How long a write waits before it tries again on EAGAIN or EBUSY, as SonicBoom does. */
const BUSY_RETRY_MS = 100;

function waitBusy(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BUSY_RETRY_MS);
}

/** The `write` SonicBoom gives its instances, by class: found on an instance made to compare. */
const SONIC_BOOM_WRITE = new WeakMap<object, unknown>();

/**
 * Whether `stream.write` is the one SonicBoom itself installed (it sets it on each instance,
 * so a replaced or wrapped `write` is told apart only by comparing with another instance's).
 */
function writesAsSonicBoom(stream: SonicBoomState, fd: number): boolean {
  const type = stream.constructor;
  if (typeof type !== 'function' || type.name !== 'SonicBoom') return false;
  let write = SONIC_BOOM_WRITE.get(type);
  if (write === undefined) {
    try {
      // On the same descriptor, never written to nor closed: only its `write` is read.
      const Construct = type as new (options: { fd: number; sync: boolean }) => { write: unknown };
      write = new Construct({ fd, sync: true }).write;
    } catch {
      write = null;
    }
    SONIC_BOOM_WRITE.set(type, write);
  }
  return typeof write === 'function' && stream.write === write;
}

/**
 * Writes batches straight to the file of a synchronous SonicBoom (`pino.destination({ sync:
 * true })`, the demo's) while it has nothing queued, which is what its own `write` would do at
 * that moment: one `fs.writeSync` of the whole batch, waiting and trying again on EAGAIN or
 * EBUSY, the error emitted on the stream otherwise. Its own `write` of a string computes the
 * string's UTF-8 length, has it encoded by the write, then encodes the whole string once more
 * into a new Buffer to account for what was written: three passes and a batch-sized Buffer
 * (about 3.6 µs of a warm request's CPU in the benchmark's profiles). Here the batch is encoded
 * once into a buffer that is reused. Only for a SonicBoom whose `write` is its own (a wrapped
 * or replaced `write` is always called), without `fsync` or `minLength`; its `retryEAGAIN` is
 * asked as SonicBoom asks it. Returns false, having written nothing, when the stream is not in
 * that state (asynchronous, busy, something queued, being reopened, ending, destroyed) or the
 * batch is too long: the caller then hands it to the stream's own `write`.
 */
function directWriter(stream: SonicBoomState): ((text: string) => boolean) | undefined {
  /* oxlint-disable no-underscore-dangle -- SonicBoom's state, read to write only when it would */
  if (
    stream.sync !== true ||
    typeof stream.fd !== 'number' ||
    !Array.isArray(stream._bufs) ||
    typeof stream._len !== 'number' ||
    typeof stream._writing !== 'boolean' ||
    // fsync after each write, or buffering up to minLength: SonicBoom's own write does that.
    stream._fsync !== false ||
    stream.minLength !== 0 ||
    !writesAsSonicBoom(stream, stream.fd)
  )
    return undefined;
  let scratch = Buffer.allocUnsafe(0);
  return (text) => {
    // Read at every batch: a reopened destination (log rotation) has a new descriptor.
    const fd = stream.fd;
    if (
      stream._writing !== false ||
      stream._len !== 0 ||
      stream._reopening === true ||
      stream._ending === true ||
      stream.destroyed === true ||
      typeof fd !== 'number' ||
      fd < 0
    )
      return false;
    /* oxlint-enable no-underscore-dangle */
    // A UTF-16 code unit takes at most 3 bytes of UTF-8: the whole batch always fits.
    const room = text.length * 3;
    if (room > MAX_DIRECT_BYTES) return false;
    if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, 4 * BATCH_CHARS));
    const bytes = scratch.write(text, 0, 'utf8');
    let offset = 0;
    while (offset < bytes) {
      try {
        offset += writeSync(fd, scratch, offset, bytes - offset);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const retry = stream.retryEAGAIN;
        if (
          (code === 'EAGAIN' || code === 'EBUSY') &&
          (typeof retry !== 'function' || retry.call(stream, error, bytes - offset, 0) !== false)
        ) {
          waitBusy();
          continue;
        }
        if (offset === 0) return false; // nothing written: the stream's write reports it
        stream.emit?.('error', error);
        return true;
      }
    }
    return true;
  };
}

/** Lines of one drain are written together up to this many characters. */
const BATCH_CHARS = 65_536;

/** The symbols of a pino instance, by description (`pino.lsCache`, ...), from its prototype chain. */
function symbolsOf(logger: object): Map<string, symbol> {
  const found = new Map<string, symbol>();
  for (let o: object | null = logger; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    for (const symbol of Object.getOwnPropertySymbols(o)) {
      if (symbol.description !== undefined && !found.has(symbol.description))
        found.set(symbol.description, symbol);
    }
  }
  return found;
}

/**
 * The fast line writer for `logger`, or `undefined` when the logger is not a pino logger or is
 * configured in a way only pino itself can honour.
 *
 * @internal
 */
export function fastPinoLine(logger: object): FastPinoLine | undefined {
  const symbols = symbolsOf(logger);
  const at = (name: string): unknown => {
    const symbol = symbols.get(name);
    return symbol === undefined ? undefined : (logger as Indexed)[symbol];
  };
  const levels = (logger as { levels?: { values?: Record<string, number> } }).levels?.values;
  const isLevelEnabled = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  const lsCache = at('pino.lsCache') as Record<number, string> | undefined;
  const time = at('pino.time');
  const end = at('pino.end');
  const stream = at('pino.stream') as
    | {
        write?: (line: string) => unknown;
        fd?: unknown;
        flushSync?: unknown;
        once?: (event: 'drain', listener: () => void) => unknown;
      }
    | undefined;
  const messageKey = at('pino.messageKey');
  const formatters = logger as Indexed;
  const formatterSet = formatters[Symbol.for('pino.formatters')] as { log?: unknown } | undefined;
  const hooks = formatters[Symbol.for('pino.hooks')] as
    { logMethod?: unknown; streamWrite?: unknown } | undefined;
  const serializers = formatters[Symbol.for('pino.serializers')] as
    Record<string, unknown> | undefined;
  const stringifiers = at('pino.stringifiers') as object | undefined;
  if (
    levels?.info === undefined ||
    levels.warn === undefined ||
    typeof isLevelEnabled !== 'function' ||
    lsCache?.[levels.info] === undefined ||
    lsCache[levels.warn] === undefined ||
    typeof time !== 'function' ||
    typeof end !== 'string' ||
    typeof messageKey !== 'string' ||
    typeof stream?.write !== 'function' ||
    (stream as Indexed)[Symbol.for('pino.metadata')] === true ||
    at('pino.mixin') !== undefined ||
    formatterSet === undefined ||
    formatterSet.log !== undefined ||
    hooks === undefined ||
    hooks.logMethod !== undefined ||
    hooks.streamWrite !== undefined ||
    stringifiers === undefined ||
    Object.keys(stringifiers).length > 0 ||
    Object.getOwnPropertySymbols(stringifiers).some(
      (s) => (stringifiers as Indexed)[s] !== undefined,
    ) ||
    (at('pino.nestedKey') ?? null) !== null ||
    (at('pino.msgPrefix') ?? '') !== '' ||
    serializers === undefined ||
    ECS_FIELDS.some((field) => serializers[field] !== undefined) ||
    serializers[messageKey] !== undefined
  )
    return undefined;
  const chindings = symbols.get('pino.chindings') as symbol;
  const prefix = { info: lsCache[levels.info], warn: lsCache[levels.warn] };
  const messageField = `,${JSON.stringify(messageKey)}:`;
  const writeLine = stream.write.bind(stream);
  // A file descriptor (pino.destination, stdout): the lines of one batch go in one write.
  // Any other stream gets one write per line, as pino does.
  const batches = typeof stream.fd === 'number' && typeof stream.flushSync === 'function';
  // Backpressure: pino's default destination (an asynchronous SonicBoom) queues what it cannot
  // write yet without bound. Once it answers false, the sink waits for its drain, and events
  // wait in the audit service's bounded buffer (or are dropped and counted) instead.
  const once = typeof stream.once === 'function' ? stream.once.bind(stream) : undefined;
  let backedUp: Promise<void> | undefined;
  const direct = batches ? directWriter(stream) : undefined;
  const put = (text: string): void => {
    if (direct?.(text) === true) return;
    if (writeLine(text) !== false || once === undefined || backedUp !== undefined) return;
    backedUp = new Promise<void>((resolve) => {
      once('drain', () => {
        backedUp = undefined;
        resolve();
      });
    });
  };
  let pending = '';
  const flush = (): void => {
    if (pending === '') return; // already written (the batch reached its size)
    const lines = pending;
    pending = '';
    put(lines);
  };
  return {
    write(level, body, message) {
      if (!isLevelEnabled.call(logger, level)) return backedUp;
      const line =
        prefix[level] +
        (time as () => string)() +
        ((logger as Indexed)[chindings] as string) +
        ',' +
        body +
        messageField +
        JSON.stringify(message) +
        end;
      if (!batches) {
        put(line);
        return backedUp;
      }
      if (pending === '') queueMicrotask(flush);
      pending += line;
      // A long drain writes every 64 KiB: no string of unbounded length is built.
      if (pending.length >= BATCH_CHARS) flush();
      return backedUp;
    },
  };
}
