// Hands a child's lines to one reader as they arrive. While a reader is attached the
// queue pushes back: past `highWater` lines it pauses the child's pipes (the child then
// blocks on write) and resumes them at half. Before a reader attaches, and after it
// leaves, nothing pauses: lines wait up to `unreadCap` lines and `unreadChars` characters
// (oldest dropped), so a child nobody reads can never stall nor fill memory.
import type { OutputLine } from './output.js';

export class LineQueue implements AsyncIterable<OutputLine> {
  private items: OutputLine[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<OutputLine>) => void) | null = null;
  private ended = false;
  private attached = false;
  private readerLeft = false;
  private paused = false;
  private pressure = true;
  private queuedChars = 0;
  /** Lines dropped because nobody was reading yet. */
  dropped = 0;

  constructor(
    private readonly setPaused: (paused: boolean) => void,
    private readonly highWater = 1_000,
    private readonly unreadCap = 10_000,
    private readonly unreadChars = 16 * 1024 * 1024,
  ) {}

  push(line: OutputLine): void {
    if (this.ended || this.readerLeft) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: line, done: false });
      return;
    }
    this.items.push(line);
    this.queuedChars += line.line.length;
    while (!this.attached && this.length > 0 && (this.length > this.unreadCap || this.queuedChars > this.unreadChars)) {
      this.queuedChars -= this.items[this.head++].line.length;
      this.dropped++;
    }
    this.compact();
    if (this.attached && this.pressure && !this.paused && this.length >= this.highWater) this.pause(true);
  }

  /** No more lines will come (the child's pipes closed). */
  end(): void {
    this.ended = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  /** Stops pushing back for good (the child is gone or being killed: drain what is left). */
  releasePressure(): void {
    this.pressure = false;
    this.pause(false);
  }

  [Symbol.asyncIterator](): AsyncIterator<OutputLine> {
    if (this.attached) throw new Error('lines() has one reader; it is already being read.');
    this.attached = true;
    return {
      next: () => this.next(),
      return: async () => {
        this.readerLeft = true;
        this.items = [];
        this.head = 0;
        this.queuedChars = 0;
        this.pause(false);
        return { value: undefined, done: true };
      },
    };
  }

  private next(): Promise<IteratorResult<OutputLine>> {
    if (this.length > 0) {
      const value = this.items[this.head++];
      this.queuedChars -= value.line.length;
      this.compact();
      if (this.paused && this.length <= this.highWater / 2) this.pause(false);
      return Promise.resolve({ value, done: false });
    }
    if (this.ended || this.readerLeft) return Promise.resolve({ value: undefined, done: true });
    if (this.paused) this.pause(false);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private get length(): number {
    return this.items.length - this.head;
  }

  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private pause(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.setPaused(paused);
  }
}
