/**
 * A push-driven async iterable: the scheduler pushes token events from inside its step (which must
 * not wait on a client), and a response stream consumes them at the client's pace.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wakeUp: (() => void) | undefined;
  private ended = false;

  push(item: T): void {
    this.items.push(item);
    this.wakeUp?.();
  }

  end(): void {
    this.ended = true;
    this.wakeUp?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) yield this.items.shift() as T;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wakeUp = resolve));
      this.wakeUp = undefined;
    }
  }
}
